// Open-loop load for the hot-reload end-to-end tests: requests start on a fixed schedule (a rate,
// not a number of workers waiting for answers), so a slow reload shows up as latency and failures
// instead of silently lowering the load. Every answer is recorded with the gateway it went to,
// the config hash and deployment it reports and the upstream model the mock echoed, then checked
// against the configs the test applied (ConfigLedger).
import { Agent, request } from 'undici';

export interface Target {
  name: string;
  /** Base URL of the gateway's API port, e.g. http://127.0.0.1:41234 */
  url: string;
}

export interface Outcome {
  target: string;
  streamed: boolean;
  /** performance.now() when the request was sent and when its body ended. */
  start: number;
  end: number;
  status: number;
  hash: string | undefined;
  deployment: string | undefined;
  /** The model the upstream (the mock) answered for: the deployment's upstream model. */
  upstreamModel: string | undefined;
  error: string | undefined;
}

export interface LoadOptions {
  /** Requests per second across all active targets. */
  rps: number;
  /** Fraction of requests sent with stream: true. */
  streamShare: number;
  /** The load stops by itself after this long, whatever the test does. */
  maxDurationMs: number;
  apiKey: string;
  model: string;
  /** Requests in flight above which the schedule counts a miss instead of sending. Default 2000. */
  maxInFlight?: number;
}

export class OpenLoopLoad {
  readonly outcomes: Outcome[] = [];
  /** Scheduled requests not sent because maxInFlight was reached. */
  missed = 0;
  private targets: Target[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stoppedAt = 0;
  private scheduled = 0;
  private next = 0;
  private closed: Promise<void> | undefined;
  private readonly options: LoadOptions;

  constructor(options: LoadOptions) {
    this.options = options;
  }

  /** Which gateways receive the load from now on (round robin). */
  setTargets(targets: Target[]): void {
    this.targets = [...targets];
  }

  start(): void {
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), 5);
  }

  /** Stops scheduling and waits for every request in flight to finish (idempotent). */
  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.stoppedAt) this.stoppedAt = performance.now();
    this.closed ??= (async () => {
      while (this.pending.size) await Promise.all([...this.pending]);
      await this.agent.close();
    })();
    return this.closed;
  }

  running(): boolean {
    return this.timer !== undefined;
  }

  /** Seconds between start() and stop() (or now). */
  durationSeconds(): number {
    return ((this.stoppedAt || performance.now()) - this.startedAt) / 1000;
  }

  inFlightTo(target: string): number {
    return this.inFlight.get(target) ?? 0;
  }

  /** Resolves when nothing is in flight to `target` (after it was removed from the targets). */
  async drained(target: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.inFlightTo(target) > 0) {
      if (performance.now() > deadline) throw new Error(`${this.inFlightTo(target)} requests to ${target} still in flight after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  failures(since = 0): Outcome[] {
    return this.outcomes.filter((o) => o.start >= since && o.error !== undefined);
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.startedAt > this.options.maxDurationMs) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.stoppedAt = now;
      return;
    }
    // Catch up on every request the schedule owes, even after a stalled event loop.
    const due = Math.floor(((now - this.startedAt) * this.options.rps) / 1000);
    while (this.scheduled < due) {
      this.scheduled++;
      if (this.targets.length === 0) continue;
      if (this.pending.size >= (this.options.maxInFlight ?? 2000)) {
        this.missed++;
        continue;
      }
      const target = this.targets[this.next++ % this.targets.length]!;
      // Every k-th request streams, spread evenly.
      const streamed = Math.floor(this.scheduled * this.options.streamShare) !== Math.floor((this.scheduled - 1) * this.options.streamShare);
      const p = this.send(target, streamed).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  private async send(target: Target, streamed: boolean): Promise<void> {
    this.inFlight.set(target.name, this.inFlightTo(target.name) + 1);
    const outcome: Outcome = {
      target: target.name,
      streamed,
      start: performance.now(),
      end: 0,
      status: 0,
      hash: undefined,
      deployment: undefined,
      upstreamModel: undefined,
      error: undefined,
    };
    try {
      const res = await request(`${target.url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: this.options.model, messages: [{ role: 'user', content: 'hi' }], ...(streamed ? { stream: true } : {}) }),
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
      });
      outcome.status = res.statusCode;
      outcome.hash = header(res.headers['x-switchboard-config-hash']);
      outcome.deployment = header(res.headers['x-switchboard-deployment']);
      const text = await res.body.text();
      if (res.statusCode !== 200) outcome.error = `status ${res.statusCode}: ${text.slice(0, 300)}`;
      else if (streamed) {
        const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
        const chunks = events.filter((e) => e !== 'data: [DONE]').map((e) => JSON.parse(e.slice(6)) as { model?: string; choices?: Array<{ delta?: { content?: string } }> });
        const content = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
        outcome.upstreamModel = chunks[0]?.model;
        if (events.at(-1) !== 'data: [DONE]') outcome.error = `stream did not end with [DONE]: ${text.slice(-200)}`;
        else if (!content) outcome.error = 'stream carried no content';
      } else {
        const body = JSON.parse(text) as { model?: string; choices?: Array<{ message?: { content?: string } }> };
        outcome.upstreamModel = body.model;
        if (!body.choices?.[0]?.message?.content) outcome.error = `no content: ${text.slice(0, 300)}`;
      }
      if (!outcome.error && (!outcome.hash || !outcome.deployment)) outcome.error = 'missing x-switchboard-config-hash or x-switchboard-deployment';
    } catch (error) {
      outcome.error = `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      outcome.end = performance.now();
      this.inFlight.set(target.name, this.inFlightTo(target.name) - 1);
      this.outcomes.push(outcome);
    }
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What the test applied, in order: per config hash, the deployments a request may be served by
 *  (deployment name -> upstream model), and when each gateway was first seen serving it. */
export class ConfigLedger {
  private readonly order: string[] = [];
  private readonly allowed = new Map<string, Map<string, string>>();
  private readonly seen: Array<{ target: string; index: number; at: number }> = [];

  record(hash: string, deployments: Map<string, string>): void {
    if (!this.allowed.has(hash)) this.order.push(hash);
    this.allowed.set(hash, deployments);
  }

  indexOf(hash: string): number {
    return this.order.indexOf(hash);
  }

  /** `target` had swapped to `hash` by `at` (performance.now() when its readiness answer arrived). */
  servedSince(target: string, hash: string, at: number): void {
    this.seen.push({ target, index: this.indexOf(hash), at });
  }

  /** Every problem with the outcomes: failures, unknown hashes, deployments (or upstream models)
   *  not allowed by the config the answer reports, and answers on a config older than one the
   *  gateway was already serving when the request was sent. */
  check(outcomes: readonly Outcome[]): string[] {
    const problems: string[] = [];
    for (const o of outcomes) {
      const at = `request to ${o.target} at ${o.start.toFixed(0)} ms (${o.streamed ? 'streamed' : 'plain'})`;
      if (o.error !== undefined) {
        problems.push(`${at} failed: ${o.error}`);
        continue;
      }
      const allowed = this.allowed.get(o.hash!);
      if (!allowed) {
        problems.push(`${at} reports config ${o.hash}, which the test never applied`);
        continue;
      }
      const upstream = allowed.get(o.deployment!);
      if (upstream === undefined) problems.push(`${at} served by ${o.deployment}, not allowed by config ${o.hash} (allows ${[...allowed.keys()].join(', ')})`);
      else if (upstream !== o.upstreamModel) problems.push(`${at} reports deployment ${o.deployment} but the upstream answered for ${o.upstreamModel} (expected ${upstream})`);
      const floor = this.seen.filter((s) => s.target === o.target && s.at < o.start).reduce((max, s) => Math.max(max, s.index), -1);
      if (this.indexOf(o.hash!) < floor) problems.push(`${at} served by config #${this.indexOf(o.hash!)} ${o.hash} after ${o.target} already served config #${floor}`);
    }
    return problems;
  }
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The admin /readyz of a gateway. */
export async function readyz(adminUrl: string): Promise<{ ready: boolean; configHash: string; lastConfigError: string | null }> {
  const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()) as { ready: boolean; configHash: string; lastConfigError: string | null };
}

/** Polls every gateway's /readyz until each reports `hash`; records in the ledger when each got
 *  there and returns the time (performance.now()) the last one was seen serving it. */
export async function waitServing(ledger: ConfigLedger, gateways: ReadonlyArray<{ name: string; adminUrl: string }>, hash: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  const done = new Map<string, number>();
  let last = '';
  while (done.size < gateways.length) {
    for (const g of gateways) {
      if (done.has(g.name)) continue;
      try {
        const r = await readyz(g.adminUrl);
        last = `${g.name}: ${JSON.stringify(r)}`;
        if (r.configHash === hash) {
          // Once the answer is here the swap has happened: a request sent later sees it.
          const at = performance.now();
          done.set(g.name, at);
          ledger.servedSince(g.name, hash, at);
        }
      } catch (error) {
        last = `${g.name}: ${String(error)}`;
      }
    }
    if (done.size === gateways.length) break;
    if (performance.now() > deadline) throw new Error(`not every gateway serves ${hash} after ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Math.max(...done.values());
}

/** A one-line summary of the load, for the test log. */
export function describeLoad(load: OpenLoopLoad): string {
  const n = load.outcomes.length;
  const streamed = load.outcomes.filter((o) => o.streamed).length;
  const latencies = load.outcomes.map((o) => o.end - o.start);
  const byTarget = new Map<string, number>();
  for (const o of load.outcomes) byTarget.set(o.target, (byTarget.get(o.target) ?? 0) + 1);
  return (
    `${n} requests in ${load.durationSeconds().toFixed(1)} s (${(n / load.durationSeconds()).toFixed(0)} rps; ${streamed} streamed; ` +
    `${[...byTarget].map(([t, c]) => `${t} ${c}`).join(', ')}), latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
    `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms; failed ${load.failures().length}; missed ${load.missed}`
  );
}

/**
 * The models of change variant 0–3, with deployments built by `d(suffix, weight)`: one alias
 * with two weighted deployments, a single deployment, three deployments under least-inflight plus
 * a spare alias, or two deployments with a fallback alias.
 */
export function modelVariant<D>(variant: number, d: (suffix: string, weight: number) => D) {
  if (variant === 0) return [{ name: 'live', deployments: [d('blue', 1), d('green', 3)] }];
  if (variant === 1) return [{ name: 'live', deployments: [d('solo', 1)] }];
  if (variant === 2) {
    return [
      { name: 'live', deployments: [d('a', 2), d('b', 1), d('c', 1)], strategy: 'least-inflight' as const },
      { name: 'spare', deployments: [d('spare', 1)] },
    ];
  }
  return [
    { name: 'live', deployments: [d('x', 5), d('y', 1)], fallbacks: ['backup'] },
    { name: 'backup', deployments: [d('backup', 1)] },
  ];
}
