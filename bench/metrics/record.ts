// Per-request cost of the metrics a gateway request records (node bench/metrics/record.ts, after
// `npx tsc -b`). Compares ExchangeMetrics.record — requests by route class, routing decisions,
// upstream tries, tokens, cost, upstream first byte — with the reference the gateway recorded
// before it (requests, tokens in and out, by label objects), measured in the same process, in
// alternating rounds so that noise on the shared machine hits both alike.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { GatewayMetrics } from '../../dataplane/dist/telemetry/metrics.js';
import { ExchangeMetrics } from '../../dataplane/dist/telemetry/exchange-metrics.js';
import type { DeploymentTarget } from '../../dataplane/dist/config/runtime-state.js';
import type { ExchangeResult } from '../../dataplane/dist/pipeline/exchange.js';
import { median } from '../lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, ops: { type: 'string', default: '100000' } } });
const ROUNDS = Number(values.rounds);
const OPS = Number(values.ops);

function target(alias: string, name: string): DeploymentTarget {
  const config = { name, provider: 'openai', model: `${name}-model`, baseUrl: 'http://127.0.0.1:1/v1', weight: 1, pricing: { inputPerMillion: 3, outputPerMillion: 15 } };
  return { name, alias, config, provider: undefined, apiKey: undefined } as unknown as DeploymentTarget;
}

const primary = target('chat', 'chat-a');
const secondary = target('chat', 'chat-b');
const served: ExchangeResult = {
  status: 200, alias: 'chat', deployment: 'chat-a', reason: 'weighted', attempts: 1, ttfbMs: 12,
  inputTokens: 120, outputTokens: 48, route: 'rule', tries: [{ target: primary, route: 'rule' }], skipped: [],
};
const retried: ExchangeResult = {
  ...served, deployment: 'chat-b', attempts: 2, route: 'retry',
  tries: [{ target: primary, route: 'rule', failure: '503' }, { target: secondary, route: 'retry' }], skipped: [{ target: primary, route: 'cooldown-skip' }],
};

/** What api-server recorded per request before the routing metrics (minus the duration histogram, unchanged). */
function reference(metrics: GatewayMetrics, result: ExchangeResult): void {
  const model = result.alias ?? '';
  metrics.requests.inc({ model, deployment: result.deployment ?? '', operation: 'chat', route: result.route ?? 'none', status: String(result.status) });
  if (result.inputTokens) metrics.tokens.inc({ model, direction: 'input' }, result.inputTokens);
  if (result.outputTokens) metrics.tokens.inc({ model, direction: 'output' }, result.outputTokens);
}

function timeNsPerOp(run: () => void): number {
  const started = performance.now();
  for (let i = 0; i < OPS; i++) run();
  return ((performance.now() - started) * 1e6) / OPS;
}

const refMetrics = new GatewayMetrics();
const newMetrics = new GatewayMetrics();
const recorder = new ExchangeMetrics(newMetrics);
const started = performance.now();
const samples = { reference: [] as number[], served: [] as number[], retried: [] as number[] };
for (let round = 0; round < ROUNDS + 2; round++) {
  const r = timeNsPerOp(() => reference(refMetrics, served));
  const s = timeNsPerOp(() => recorder.record('chat', served, started));
  const t = timeNsPerOp(() => recorder.record('chat', retried, started));
  if (round < 2) continue; // warm-up rounds: JIT
  samples.reference.push(r);
  samples.served.push(s);
  samples.retried.push(t);
}
const ref = median(samples.reference);
const row = (name: string, ns: number): string => `| ${name} | ${ns.toFixed(0)} ns | ${(ns / ref).toFixed(2)}× |`;
console.log(`metrics recorded per request: median of ${ROUNDS} rounds × ${OPS} requests, ${process.version}`);
console.log('| recording | per request | vs reference |');
console.log('|---|---|---|');
console.log(row('reference: requests + tokens in/out (before)', ref));
console.log(row('ExchangeMetrics.record, served on the first try', median(samples.served)));
console.log(row('ExchangeMetrics.record, failed try + cooldown skip + retry', median(samples.retried)));
