// Turns what a request ended with (ExchangeResult) into samples: requests, tokens, cost, time to
// first token, routing decisions, upstream tries and failures. prom-client spends 0.3-1 µs per
// increment (it hashes the labels every time, bound children included), so a request only adds
// to plain numbers here and the counters take the sums when /metrics is scraped (publish).
// The request duration histogram is observed by the caller.
import type { Counter, LabelValues } from 'prom-client';
import type { ExchangeResult } from '../pipeline/exchange.js';
import type { Operation } from '../providers/types.js';
import { costUsd } from './cost.js';
import type { GatewayMetrics } from './metrics.js';
import { FAILURE_CLASSES, ROUTE_CLASSES, failureClass, type RouteClass } from './route-class.js';

const OPERATION_INDEX: Record<Operation, number> = { chat: 0, completions: 1, embeddings: 2, messages: 3 };
const ROUTE_INDEX = Object.fromEntries(ROUTE_CLASSES.map((route, i) => [route, i])) as Record<RouteClass, number>;

/** A sum kept off prom-client until a scrape moves what was added since the last one into the counter. */
class Tally {
  value = 0;
  private published = 0;

  constructor(
    private readonly counter: Counter<string>,
    private readonly labels: LabelValues<string>,
  ) {}

  publish(): void {
    if (this.value === this.published) return;
    const delta = this.value - this.published;
    this.published = this.value;
    this.counter.inc(this.labels, delta);
  }
}

/** The sums of one deployment of one alias; an empty deployment holds the alias's requests none answered. */
class Series {
  readonly tries: Tally;
  readonly inputTokens: Tally;
  readonly outputTokens: Tally;
  readonly cost: Tally;
  private readonly decisions: (Tally | undefined)[] = [];
  private readonly failures: (Tally | undefined)[] = [];
  /** By (status, route class, operation). */
  private readonly requests = new Map<number, Tally>();
  private readonly firstToken: ({ observe(value: number): void } | undefined)[] = [];

  constructor(
    private readonly owner: ExchangeMetrics,
    private readonly model: string,
    private readonly deployment: string,
  ) {
    const m = owner.metrics;
    this.tries = owner.tally(m.upstreamTries, { deployment });
    this.inputTokens = owner.tally(m.tokens, { model, direction: 'input' });
    this.outputTokens = owner.tally(m.tokens, { model, direction: 'output' });
    this.cost = owner.tally(m.cost, { model, deployment });
  }

  decision(route: RouteClass): Tally {
    const i = ROUTE_INDEX[route];
    return (this.decisions[i] ??= this.owner.tally(this.owner.metrics.routingDecisions, { model: this.model, deployment: this.deployment, reason: route }));
  }

  failure(reason: string): Tally {
    const i = FAILURE_CLASSES.indexOf(failureClass(reason));
    return (this.failures[i] ??= this.owner.tally(this.owner.metrics.upstreamFailures, { deployment: this.deployment, reason: FAILURE_CLASSES[i]! }));
  }

  request(op: Operation, route: RouteClass, status: number): Tally {
    const key = (status * ROUTE_CLASSES.length + ROUTE_INDEX[route]) * 4 + OPERATION_INDEX[op];
    let tally = this.requests.get(key);
    if (!tally) {
      tally = this.owner.tally(this.owner.metrics.requests, { model: this.model, deployment: this.deployment, operation: op, route, status: String(status) });
      this.requests.set(key, tally);
    }
    return tally;
  }

  observeFirstToken(op: Operation, seconds: number): void {
    const i = OPERATION_INDEX[op];
    (this.firstToken[i] ??= this.owner.metrics.timeToFirstToken.labels({ model: this.model, operation: op })).observe(seconds);
  }
}

export class ExchangeMetrics {
  private readonly tallies: Tally[] = [];
  /** alias -> deployment name -> sums; names, not config objects, so reloads add nothing. */
  private readonly byAlias = new Map<string, Map<string, Series>>();
  /** Requests refused before routing: no alias, no deployment. */
  private readonly unrouted: Series;
  private readonly shed: Tally;

  constructor(readonly metrics: GatewayMetrics) {
    this.unrouted = new Series(this, '', '');
    this.shed = this.unrouted.decision('shed');
    metrics.publishBeforeScrape(() => this.publish());
  }

  /** A new sum for `labels` of `counter`, published at every scrape. */
  tally(counter: Counter<string>, labels: LabelValues<string>): Tally {
    const tally = new Tally(counter, labels);
    this.tallies.push(tally);
    return tally;
  }

  publish(): void {
    for (const tally of this.tallies) tally.publish();
  }

  private series(alias: string, deployment: string): Series {
    let deployments = this.byAlias.get(alias);
    if (!deployments) this.byAlias.set(alias, (deployments = new Map()));
    let series = deployments.get(deployment);
    if (!series) deployments.set(deployment, (series = new Series(this, alias, deployment)));
    return series;
  }

  /** Where a request's own count goes: its answering deployment, else the alias it last tried or skipped. */
  private requestSeries(result: ExchangeResult, answered: Series | undefined): Series {
    if (answered) return answered;
    const last = result.tries?.at(-1)?.target ?? result.skipped?.at(-1)?.target;
    return last ? this.series(last.alias, '') : this.unrouted;
  }

  /** `startedAt`: performance.now() when the request was received. */
  record(op: Operation, result: ExchangeResult, startedAt: number): void {
    const tries = result.tries;
    const target = result.deployment !== undefined && tries !== undefined && tries.length > 0 ? tries[tries.length - 1]!.target : undefined;
    const answered = target && this.series(target.alias, target.name);
    const route = result.route ?? 'none';
    this.requestSeries(result, answered).request(op, route, result.status).value++;
    if (route === 'shed') this.shed.value++;
    if (result.skipped) for (const skip of result.skipped) this.series(skip.target.alias, skip.target.name).decision(skip.route).value++;
    if (tries) {
      for (const t of tries) {
        const series = this.series(t.target.alias, t.target.name);
        series.decision(t.route).value++;
        series.tries.value++;
        if (t.failure !== undefined) series.failure(t.failure).value++;
      }
    }
    if (!target || !answered) return;
    if (result.firstChunkAt !== undefined) answered.observeFirstToken(op, (result.firstChunkAt - startedAt) / 1000);
    const inputTokens = result.inputTokens ?? 0;
    const outputTokens = result.outputTokens ?? 0;
    answered.inputTokens.value += inputTokens;
    answered.outputTokens.value += outputTokens;
    const usd = costUsd(target.config.pricing, { inputTokens, outputTokens });
    if (usd !== undefined) answered.cost.value += usd;
  }
}
