// Turns what a request ended with (ExchangeResult) into samples: requests, tokens, cost, time to
// first token, routing decisions, upstream tries and failures. Label children are bound once per
// deployment of a config snapshot (a WeakMap, so a replaced snapshot's entries go with it), which
// keeps the per-request work to a few increments. The request duration is observed by the caller.
import type { DeploymentTarget } from '../config/runtime-state.js';
import type { ExchangeResult } from '../pipeline/exchange.js';
import type { Operation } from '../providers/types.js';
import { costUsd } from './cost.js';
import type { GatewayMetrics } from './metrics.js';
import { failureClass, type FailureClass, type RouteClass } from './route-class.js';

interface Increment {
  inc(value?: number): void;
}

/** The label children of one deployment. */
class DeploymentSeries {
  readonly tries: Increment;
  readonly inputTokens: Increment;
  readonly outputTokens: Increment;
  readonly cost: Increment;
  readonly firstByte: { observe(value: number): void };
  private readonly decisions = new Map<RouteClass, Increment>();
  private readonly failures = new Map<FailureClass, Increment>();

  constructor(
    private readonly metrics: GatewayMetrics,
    readonly target: DeploymentTarget,
  ) {
    this.tries = metrics.upstreamTries.labels(target.name);
    this.inputTokens = metrics.tokens.labels({ model: target.alias, direction: 'input' });
    this.outputTokens = metrics.tokens.labels({ model: target.alias, direction: 'output' });
    this.cost = metrics.cost.labels({ model: target.alias, deployment: target.name });
    this.firstByte = metrics.upstreamFirstByte.labels(target.name);
  }

  decision(route: RouteClass): Increment {
    let child = this.decisions.get(route);
    if (!child) {
      child = this.metrics.routingDecisions.labels({ model: this.target.alias, deployment: this.target.name, reason: route });
      this.decisions.set(route, child);
    }
    return child;
  }

  failure(reason: FailureClass): Increment {
    let child = this.failures.get(reason);
    if (!child) {
      child = this.metrics.upstreamFailures.labels({ deployment: this.target.name, reason });
      this.failures.set(reason, child);
    }
    return child;
  }
}

export class ExchangeMetrics {
  private readonly byDeployment = new WeakMap<DeploymentTarget, DeploymentSeries>();
  private readonly shed: Increment;

  constructor(private readonly metrics: GatewayMetrics) {
    this.shed = metrics.routingDecisions.labels({ model: '', deployment: '', reason: 'shed' });
  }

  private series(target: DeploymentTarget): DeploymentSeries {
    let series = this.byDeployment.get(target);
    if (!series) {
      series = new DeploymentSeries(this.metrics, target);
      this.byDeployment.set(target, series);
    }
    return series;
  }

  /** `startedAt`: performance.now() when the request was received. */
  record(op: Operation, result: ExchangeResult, startedAt: number): void {
    const model = result.alias ?? '';
    const route = result.route ?? 'none';
    this.metrics.requests.inc({ model, deployment: result.deployment ?? '', operation: op, route, status: String(result.status) });
    if (route === 'shed') this.shed.inc();
    for (const skip of result.skipped ?? []) this.series(skip.target).decision(skip.route).inc();
    const tries = result.tries ?? [];
    for (const t of tries) {
      const series = this.series(t.target);
      series.decision(t.route).inc();
      series.tries.inc();
      if (t.failure !== undefined) series.failure(failureClass(t.failure)).inc();
    }
    if (result.deployment === undefined || tries.length === 0) return;
    const answered = this.series(tries[tries.length - 1]!.target);
    if (result.ttfbMs !== undefined) answered.firstByte.observe(result.ttfbMs / 1000);
    if (result.firstChunkAt !== undefined) this.metrics.timeToFirstToken.observe({ model, operation: op }, (result.firstChunkAt - startedAt) / 1000);
    const usage = { inputTokens: result.inputTokens ?? 0, outputTokens: result.outputTokens ?? 0 };
    if (usage.inputTokens > 0) answered.inputTokens.inc(usage.inputTokens);
    if (usage.outputTokens > 0) answered.outputTokens.inc(usage.outputTokens);
    const usd = costUsd(answered.target.config.pricing, usage);
    if (usd !== undefined && usd > 0) answered.cost.inc(usd);
  }
}
