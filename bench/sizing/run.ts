// `npm run bench:sizing`: tokens/s per gateway replica at a latency target. One gateway process
// in front of a paced mock; a ladder of concurrent-stream counts, each step measured direct (mock
// alone) and then through the gateway at the same concurrency. Prints a markdown table and writes
// it to bench/results/sizing.md.
// usage: node bench/sizing/run.ts [--quick]
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { StreamRecord, StreamsResult, Target } from '../lib/jobs.ts';
import { cpuSeconds, memoryOf, repoRoot, startGateway, startLoadGenerator, startMock, type LoadGenerator, type ServerProcess } from '../lib/processes.ts';
import { chatTarget, writeGatewayConfig } from '../lib/gateway.ts';
import { ms, summarize } from '../lib/stats.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' } } });
const quick = flags.quick === true;

/** The upstream: a streaming model at a typical decode speed (5 s per response). */
const mockFlags = { ttftMs: 50, tokensPerSecond: 20, responseTokens: 100 };
/** Streams per step; each worker runs `waves` streams back to back. */
const plan = quick ? { steps: [50, 100, 200], waves: 1, rampMs: 1000 } : { steps: [50, 100, 200, 400, 800], waves: 2, rampMs: 1000 };
/** The latency target a replica must meet (added by the gateway, p99, vs the mock alone). */
const TARGET = { addedTtftP99Ms: 50, addedGapP99Ms: 10 };
const CLIENT_KEY = 'sk-bench-sizing-0001';
const PROMPT = [{ role: 'user', content: 'Summarise the trade-offs between weighted and least-in-flight load balancing for LLM upstreams.' }];

const results = join(repoRoot, 'bench/results');
const work = mkdtempSync(join(tmpdir(), 'switchboard-sizing-'));
const t0 = performance.now();
function log(text: string): void {
  process.stderr.write(`[sizing ${((performance.now() - t0) / 1000).toFixed(1)}s] ${text}\n`);
}

function target(name: string, server: ServerProcess, model: string, key?: string): Target {
  return chatTarget(name, server, model, PROMPT, true, key);
}

interface Side {
  streams: number;
  complete: number;
  errors: number;
  firstError: string | undefined;
  ttftP99: number;
  gapP99: number;
  gapMax: number;
  /** Streams x the mean per-stream event rate (events after the first / time from first to last). */
  chunksPerSecond: number;
}

function side(entry: StreamsResult['byTarget'][string] | undefined): Side {
  const streams: StreamRecord[] = entry?.streams ?? [];
  const gaps: number[] = [];
  let rateSum = 0;
  let rated = 0;
  for (const s of streams) {
    let span = 0;
    for (const g of s.gaps) {
      gaps.push(g);
      span += g;
    }
    if (span > 0 && s.events > 1) {
      rateSum += ((s.events - 1) * 1000) / span;
      rated++;
    }
  }
  return {
    streams: streams.length,
    complete: streams.filter((s) => s.complete).length,
    errors: entry?.errors ?? 0,
    firstError: entry?.firstError,
    ttftP99: summarize(streams.map((s) => s.ttftMs)).p99,
    gapP99: summarize(gaps).p99,
    gapMax: summarize(gaps).max,
    chunksPerSecond: rated > 0 ? rateSum / rated : Number.NaN,
  };
}

interface Step {
  concurrency: number;
  nominalTokensPerSecond: number;
  direct: Side;
  gateway: Side;
  measuredTokensPerSecond: number;
  addedTtftP99: number;
  addedGapP99: number;
  cpuPercent: number;
  rssPeakMb: number;
  meets: boolean;
}

async function step(load: LoadGenerator, direct: Target, gateway: Target, gatewayPid: number, n: number): Promise<Step> {
  const job = (t: Target) => ({ kind: 'streams' as const, targets: [t], perTarget: n * plan.waves, concurrency: n, rampMs: plan.rampMs });
  const d = side((await load.run<StreamsResult>(job(direct))).byTarget.direct);
  let rssPeakMb = memoryOf(gatewayPid).rssMb;
  const sampler = setInterval(() => {
    rssPeakMb = Math.max(rssPeakMb, memoryOf(gatewayPid).rssMb);
  }, 100);
  const cpu0 = cpuSeconds(gatewayPid);
  const wall0 = performance.now();
  const gr = await load.run<StreamsResult>(job(gateway));
  const cpuPercent = ((cpuSeconds(gatewayPid) - cpu0) * 100_000) / (performance.now() - wall0);
  clearInterval(sampler);
  const g = side(gr.byTarget.gateway);
  // Tokens per chunk event: the mock sends one token per content event, plus a few framing events.
  const eventsPerStream = g.streams > 0 ? (gr.byTarget.gateway!.streams.reduce((a, s) => a + s.events, 0) / g.streams) : Number.NaN;
  const tokensPerEvent = mockFlags.responseTokens / eventsPerStream;
  const addedTtftP99 = g.ttftP99 - d.ttftP99;
  const addedGapP99 = g.gapP99 - d.gapP99;
  const clean = g.errors === 0 && g.complete === g.streams && g.streams === n * plan.waves && d.errors === 0;
  const meets = clean && addedTtftP99 <= TARGET.addedTtftP99Ms && addedGapP99 <= TARGET.addedGapP99Ms;
  return {
    concurrency: n,
    nominalTokensPerSecond: n * mockFlags.tokensPerSecond,
    direct: d,
    gateway: g,
    measuredTokensPerSecond: n * g.chunksPerSecond * tokensPerEvent,
    addedTtftP99,
    addedGapP99,
    cpuPercent,
    rssPeakMb,
    meets,
  };
}

function table(steps: Step[]): string {
  const lines = [
    '| concurrent streams | output tokens/s (nominal) | output tokens/s (measured, received chunks) | TTFT p99 gateway / direct | added TTFT p99 | inter-chunk gap p99 gateway / direct | added gap p99 | gateway CPU (% of one core) | gateway RSS peak | errors / incomplete | meets target |',
    '|---:|---:|---:|---|---:|---|---:|---:|---:|---|---|',
  ];
  for (const s of steps) {
    lines.push(
      `| ${s.concurrency} | ${s.nominalTokensPerSecond.toLocaleString('en-US')} | ${Math.round(s.measuredTokensPerSecond).toLocaleString('en-US')} | ` +
        `${ms(s.gateway.ttftP99)} / ${ms(s.direct.ttftP99)} | ${ms(s.addedTtftP99)} | ${ms(s.gateway.gapP99)} / ${ms(s.direct.gapP99)} | ${ms(s.addedGapP99)} | ` +
        `${s.cpuPercent.toFixed(0)}% | ${s.rssPeakMb.toFixed(0)} MB | ${s.gateway.errors} / ${s.gateway.streams - s.gateway.complete} | ${s.meets ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  if (!existsSync(join(repoRoot, 'dataplane/dist/cli/main.js'))) {
    process.stderr.write('bench:sizing: dataplane/dist is missing; build first (npx tsc -b or make build)\n');
    return 2;
  }
  mkdirSync(results, { recursive: true });
  const started = new Date();
  log(`${quick ? 'quick' : 'full'} run; ${cpus().length} CPUs; mock TTFT ${mockFlags.ttftMs} ms, ${mockFlags.tokensPerSecond} tokens/s, ${mockFlags.responseTokens} tokens; ` +
    `steps ${plan.steps.join(', ')} streams, ${plan.waves} wave(s) each, direct then gateway`);
  const load = await startLoadGenerator();
  const servers: ServerProcess[] = [];
  const steps: Step[] = [];
  const idle = { rssMb: Number.NaN };
  try {
    const mock = await startMock('sizing-mock', mockFlags);
    servers.push(mock);
    const gw = await startGateway('sizing-gateway', writeGatewayConfig(work, CLIENT_KEY, { bench: mock.url }), join(work, 'gateway-access.log'));
    servers.push(gw);
    await delay(500);
    idle.rssMb = memoryOf(gw.pid).rssMb;
    const direct = target('direct', mock, 'mock-gpt');
    const gateway = target('gateway', gw, 'bench', CLIENT_KEY);
    // Warm-up: JIT and connection pools, not measured.
    await load.run<StreamsResult>({ kind: 'streams', targets: [direct, gateway], perTarget: 20, concurrency: 20 });
    for (const n of plan.steps) {
      const s = await step(load, direct, gateway, gw.pid, n);
      steps.push(s);
      log(`  ${n} streams: ${Math.round(s.measuredTokensPerSecond)} tokens/s measured (${s.nominalTokensPerSecond} nominal); added TTFT p99 ${ms(s.addedTtftP99)}, ` +
        `added gap p99 ${ms(s.addedGapP99)} (gateway max gap ${ms(s.gateway.gapMax)}); CPU ${s.cpuPercent.toFixed(0)}%, RSS ${s.rssPeakMb.toFixed(0)} MB; ` +
        `${s.gateway.complete}/${s.gateway.streams} complete, ${s.gateway.errors} errors${s.gateway.firstError ? ` (${s.gateway.firstError})` : ''} -> ${s.meets ? 'meets target' : 'misses target'}`);
    }
  } finally {
    for (const s of servers.splice(0).reverse()) await s.stop();
    await load.stop();
    rmSync(work, { recursive: true, force: true });
  }

  // The answer: the highest step that meets the target with every lower step meeting it too.
  let best: Step | undefined;
  for (const s of steps) {
    if (!s.meets) break;
    best = s;
  }
  const seconds = (performance.now() - t0) / 1000;
  const body = [
    `Switchboard sizing benchmark (${quick ? 'quick run' : 'full run'}), ${started.toISOString()}`,
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; one gateway process sharing the machine with the mock and the load generator; ` +
      `load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}; run took ${seconds.toFixed(0)} s.`,
    '',
    `Upstream: mock, TTFT ${mockFlags.ttftMs} ms, ${mockFlags.tokensPerSecond} tokens/s per stream, ${mockFlags.responseTokens} tokens per response. ` +
      `Each step: ${plan.waves} × N streams with N concurrent (starts spread over ${plan.rampMs} ms), first straight to the mock, then through the gateway (auth, metrics, access log on).`,
    '',
    `Latency target: added TTFT p99 ≤ ${TARGET.addedTtftP99Ms} ms and added inter-chunk gap p99 ≤ ${TARGET.addedGapP99Ms} ms (gateway vs direct, same step), no errors, every stream complete.`,
    '',
    table(steps),
    '',
    best
      ? `**Tokens/s per replica at the latency target: ${Math.round(best.measuredTokensPerSecond).toLocaleString('en-US')} output tokens/s (${best.nominalTokensPerSecond.toLocaleString('en-US')} nominal) at ${best.concurrency} concurrent streams** ` +
        `(gateway CPU ${best.cpuPercent.toFixed(0)}% of one core, RSS peak ${best.rssPeakMb.toFixed(0)} MB; idle RSS ${idle.rssMb.toFixed(0)} MB).` +
        (best === steps.at(-1) ? ' The highest step tried met the target: the limit is above it.' : '')
      : '**No step met the latency target.**',
    '',
  ].join('\n');
  process.stdout.write(`\n${body}`);
  writeFileSync(join(results, quick ? 'sizing-quick.md' : 'sizing.md'), body);
  writeFileSync(join(results, quick ? 'sizing-quick.json' : 'sizing.json'), JSON.stringify({ target: TARGET, mock: mockFlags, plan, idleRss: idle.rssMb, steps, seconds }, null, 1));
  return best ? 0 : 1;
}

process.exitCode = await main();
