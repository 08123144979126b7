// `npm run bench:tracing`: what tracing costs the data plane. Two gateway processes in front of
// the same mock, one without tracing and one tracing every request (sampleRatio 1) over OTLP/HTTP
// to a real Jaeger v2 (default) or to a minimal sink that only counts (--sink null: the gateway's
// own cost without the backend's ingest on the same cores); closed-loop saturation throughput
// measured in alternating rounds in one run. Prints a markdown table, writes bench/results/tracing[-null].md.
// usage: node bench/tracing/run.ts [--quick] [--sink jaeger|null]
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { SequentialResult, Target, ThroughputResult } from '../lib/jobs.ts';
import { cpuSeconds, repoRoot, startGateway, startLoadGenerator, startMock, type ServerProcess } from '../lib/processes.ts';
import { chatTarget, gcSeconds } from '../lib/gateway.ts';
import { benchGatewayConfig, startNullSink } from './setup.ts';
import { geometricMean, median, ms, percentile, summarize } from '../lib/stats.ts';
import { jaegerBuilt, JAEGER_BIN, startJaeger } from '../../test/tracing/jaeger.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, sink: { type: 'string', default: 'jaeger' } } });
const quick = flags.quick === true;
if (flags.sink !== 'jaeger' && flags.sink !== 'null') throw new Error(`--sink: got "${flags.sink}"; expected jaeger or null`);
const sink = flags.sink;
const plan = quick
  ? { rounds: 2, warmupMs: 300, durationMs: 1500, concurrency: 32, latencyCount: 300 }
  : // 16 rounds: on a shared two-core VM one round's ratio can land anywhere in 0.6-1.2, and
    // the median of 6 moved by ±0.08 from run to run (docs/observability.md).
    { rounds: 16, warmupMs: 1000, durationMs: 4000, concurrency: 64, latencyCount: 2000 };
const TARGET_RATIO = 0.8;
const CLIENT_KEY = 'sk-bench-tracing-0001';
const PROMPT = [{ role: 'user', content: 'Summarise the trade-offs between weighted and least-in-flight load balancing for LLM upstreams.' }];

const work = mkdtempSync(join(tmpdir(), 'switchboard-bench-tracing-'));
const t0 = performance.now();
function log(text: string): void {
  process.stderr.write(`[tracing ${((performance.now() - t0) / 1000).toFixed(1)}s] ${text}\n`);
}

/** The bench gateway config, with tracing of every request to `otlp` when given. */
function config(mockUrl: string, otlp?: string): string {
  return benchGatewayConfig(work, CLIENT_KEY, mockUrl, otlp);
}

/** CPU seconds of a process's main thread (the event loop) and of all its threads. */
function cpuSplit(pid: number): { main: number; all: number } {
  return { main: cpuSeconds(pid, `/task/${pid}`), all: cpuSeconds(pid) };
}

function target(name: string, server: ServerProcess): Target {
  return chatTarget(name, server, 'bench', PROMPT, false, CLIENT_KEY);
}

interface Sink {
  otlpUrl: string;
  /** The backend's process, whose CPU the traced rounds also cost this machine. */
  pid: number;
  /** What the sink received so far, for the report. */
  received(): Promise<string>;
  stop(): Promise<void>;
}

async function startNullBackend(): Promise<Sink> {
  const sink = await startNullSink();
  return {
    otlpUrl: sink.otlpUrl,
    pid: sink.pid,
    async received() {
      const s = await sink.stats();
      return `${s.exports} OTLP exports, ${(s.bytes / 1e6).toFixed(1)} MB`;
    },
    stop: () => sink.stop(),
  };
}

async function startJaegerSink(): Promise<Sink & { acceptedSpans(): Promise<number> }> {
  if (!jaegerBuilt()) throw new Error(`${JAEGER_BIN} is missing: run scripts/jaeger/build.sh`);
  const jaeger = await startJaeger({ metrics: true, maxTraces: 20_000 });
  return { otlpUrl: jaeger.otlpUrl, pid: jaeger.pid, received: async () => `${await jaeger.acceptedSpans()} spans accepted`, acceptedSpans: () => jaeger.acceptedSpans(), stop: () => jaeger.close() };
}

async function main(): Promise<void> {
  const servers: { stop(): Promise<void> }[] = [];
  const load = await startLoadGenerator();
  try {
    const jaeger = sink === 'jaeger' ? await startJaegerSink() : undefined;
    const backend = jaeger ?? (await startNullBackend());
    servers.push(backend);
    const mock = await startMock('mock', { ttftMs: 0, tokensPerSecond: 0, responseTokens: 16 });
    servers.push(mock);
    // TRACING_PROF=DIR: both gateways write a V8 CPU profile (DIR/off, DIR/on) for bench/tracing/profile-summary.ts.
    // TRACING_NODE_FLAGS="...": extra Node/V8 flags for both gateways (experiments).
    // TRACING_KEEP=1: keep the work directory with both gateways' logs (printed at the end).
    const extra = process.env.TRACING_NODE_FLAGS?.split(' ').filter((f) => f !== '') ?? [];
    const profile = (name: string): string[] => [...extra, ...(process.env.TRACING_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(process.env.TRACING_PROF, name)}`] : [])];
    const off = await startGateway('tracing-off', config(mock.url), join(work, 'off.log'), profile('off'));
    servers.push(off);
    const on = await startGateway('tracing-on', config(mock.url, backend.otlpUrl), join(work, 'on.log'), profile('on'));
    servers.push(on);
    const targets = { off: target('off', off), on: target('on', on) };

    // Added latency at concurrency 1, each after its own warm-up.
    const latency: Record<string, ReturnType<typeof summarize>> = {};
    for (const [name, t] of Object.entries(targets)) {
      await load.run<SequentialResult>({ kind: 'sequential', target: t, count: 200 });
      latency[name] = summarize((await load.run<SequentialResult>({ kind: 'sequential', target: t, count: plan.latencyCount })).latencies);
      log(`latency ${name}: p50 ${ms(latency[name]!.p50)} p99 ${ms(latency[name]!.p99)}`);
    }

    log(`saturation: closed loop, ${plan.concurrency} connections, ${plan.rounds} rounds x ${plan.durationMs} ms per gateway, order alternating`);
    const rps: Record<'off' | 'on', number[]> = { off: [], on: [] };
    const pids = { off: off.pid, on: on.pid };
    const admins = { off: off.adminUrl, on: on.adminUrl };
    const gcPerRequest: Record<'off' | 'on', number[]> = { off: [], on: [] };
    // Gateway CPU per request: steadier than throughput on a machine shared with other work.
    const cpuPerRequest: Record<'off' | 'on', number[]> = { off: [], on: [] };
    // The part of it on other threads (GC helpers, JIT compilers, libuv's pool).
    const offThreadPerRequest: Record<'off' | 'on', number[]> = { off: [], on: [] };
    // What the backend spent per traced request (the same cores as the gateways here).
    const backendPerRequest: number[] = [];
    const ratios: number[] = [];
    let errors = 0;
    let requestsOn = 0;
    const spansBefore = (await jaeger?.acceptedSpans()) ?? 0;
    for (let round = 0; round < plan.rounds; round++) {
      const order: ('off' | 'on')[] = round % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      const got: Partial<Record<'off' | 'on', number>> = {};
      for (const name of order) {
        const gcBefore = await gcSeconds(admins[name]);
        const cpuBefore = cpuSplit(pids[name]);
        const backendBefore = cpuSeconds(backend.pid);
        const r = await load.run<ThroughputResult>({ kind: 'closed', target: targets[name], concurrency: plan.concurrency, warmupMs: plan.warmupMs, durationMs: plan.durationMs });
        // Warm-up requests used CPU too: divide by everything the round sent (rps x its whole time).
        const sent = r.rps * ((plan.warmupMs + plan.durationMs) / 1000);
        const cpuAfter = cpuSplit(pids[name]);
        if (name === 'on') backendPerRequest.push((cpuSeconds(backend.pid) - backendBefore) / sent);
        cpuPerRequest[name].push((cpuAfter.all - cpuBefore.all) / sent);
        offThreadPerRequest[name].push((cpuAfter.all - cpuAfter.main - (cpuBefore.all - cpuBefore.main)) / sent);
        gcPerRequest[name].push(((await gcSeconds(admins[name])) - gcBefore) / sent);
        errors += r.errors;
        if (name === 'on') requestsOn += r.completed;
        got[name] = r.rps;
        rps[name].push(r.rps);
        log(`  round ${round + 1} ${name}: ${r.rps.toFixed(0)} req/s, ${(cpuPerRequest[name].at(-1)! * 1e6).toFixed(0)} µs CPU/request (off the main thread ${(offThreadPerRequest[name].at(-1)! * 1e6).toFixed(0)}, GC pauses ${(gcPerRequest[name].at(-1)! * 1e6).toFixed(1)}), ${r.errors} errors`);
      }
      ratios.push(got.on! / got.off!);
    }
    // The traced gateway exports in batches (1 s); give the last batch time to land.
    const deadline = Date.now() + 10_000;
    let spans = ((await jaeger?.acceptedSpans()) ?? 0) - spansBefore;
    while (jaeger && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = (await jaeger.acceptedSpans()) - spansBefore;
      if (now === spans) break;
      spans = now;
    }
    const ratio = median(ratios);
    const rows = [
      [
        'Saturation throughput, tracing at 100% / tracing off (closed loop, median of per-round ratios)',
        `≥ ${TARGET_RATIO}`,
        `${ratio.toFixed(2)} (${median(rps.on).toFixed(0)} vs ${median(rps.off).toFixed(0)} req/s; middle half of the rounds ${percentile(ratios, 25).toFixed(2)}–${percentile(ratios, 75).toFixed(2)}, geometric mean ${geometricMean(ratios).toFixed(2)}; rounds ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
        ratio >= TARGET_RATIO && errors === 0 ? 'pass' : 'miss',
      ],
      ['Gateway CPU per request, tracing on / off (median over rounds)', 'report', `${(median(cpuPerRequest.on) / median(cpuPerRequest.off)).toFixed(2)} (${(median(cpuPerRequest.on) * 1e6).toFixed(0)} vs ${(median(cpuPerRequest.off) * 1e6).toFixed(0)} µs)`, '—'],
      ['Of which off the main thread (GC helpers, JIT, thread pool), on / off', 'report', `${(median(offThreadPerRequest.on) * 1e6).toFixed(0)} vs ${(median(offThreadPerRequest.off) * 1e6).toFixed(0)} µs`, '—'],
      [`${jaeger ? 'Jaeger' : 'Null sink'} CPU per traced request during the traced rounds (median)`, 'report', `${(median(backendPerRequest) * 1e6).toFixed(0)} µs`, '—'],
      ['Gateway GC pause time per request, tracing on / off (median over rounds)', 'report', `${(median(gcPerRequest.on) * 1e6).toFixed(1)} vs ${(median(gcPerRequest.off) * 1e6).toFixed(1)} µs`, '—'],
      ['Added latency p50 / p99 at concurrency 1, tracing on vs off', 'report', `${ms(latency.on!.p50 - latency.off!.p50)} / ${ms(latency.on!.p99 - latency.off!.p99)} (${ms(latency.on!.p50)} vs ${ms(latency.off!.p50)} p50)`, '—'],
      jaeger
        ? ['Spans accepted by Jaeger during saturation / requests traced', '3 per request', `${spans} / ${requestsOn} (${(spans / Math.max(1, requestsOn)).toFixed(2)} per request; warm-up requests included in spans)`, '—']
        : ['What the null sink received (whole run)', 'report', await backend.received(), '—'],
    ];
    const table = ['| metric | target | measured | result |', '|---|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
    const context = `${cpus().length} vCPU, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end; ${errors} errors; ${jaeger ? 'Jaeger v2 (memory storage)' : 'a minimal OTLP/HTTP sink (bench/tracing/otlp-sink.ts)'} on the same machine receiving OTLP/HTTP protobuf; ${quick ? 'quick run' : 'full run'}.`;
    process.stdout.write(`${table}\n\n${context}\n`);
    const results = join(repoRoot, 'bench/results');
    if (!existsSync(results)) mkdirSync(results, { recursive: true });
    writeFileSync(join(results, `tracing${sink === 'null' ? '-null' : ''}${quick ? '-quick' : ''}.md`), `${table}\n\n${context}\n`);
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await load.stop();
    if (process.env.TRACING_KEEP) process.stderr.write(`kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
