// `npm run bench:overload`: load shedding under 3x overload. A mock upstream of fixed latency
// that serves at most N requests at once (--max-concurrency) defines the capacity; the gateway's
// admission limit is set to N. Measures capacity (closed loop, N connections) and the unloaded
// p99 first, then offers 3x capacity open-loop from three client keys (critical, standard,
// sheddable), then 0.9x capacity to watch the recovery; twice, comparing the live heap after each
// round for leaks. Prints target vs measured, writes
// bench/results/overload.{md,json}; exits non-zero only on broken behaviour.
// usage: node bench/overload/run.ts [--quick] [--profile DIR (the gateway writes a --cpu-prof there)]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import type { Job, ThroughputResult } from '../lib/jobs.ts';
import { chatTarget } from '../lib/gateway.ts';
import { memoryOf, repoRoot, startGateway, startLoadGenerator, startMock, type LoadGenerator } from '../lib/processes.ts';
import { ms, percentile, summarize } from '../lib/stats.ts';
import type { ClientClass, OverloadJob, OverloadResult } from './jobs.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, profile: { type: 'string' } } });
const quick = flags.quick === true;

const LATENCY_MS = 100;
const MOCK_LIMIT = 16;
/**
 * As many waiters as the limit, for as long as one answer: what critical requests need to ride out
 * stalls of the machine. Shorter queues cut the admitted p99 a little but shed critical requests
 * in stalls (docs/load-shedding.md, "Sizing the queue").
 */
const QUEUE_DEPTH = MOCK_LIMIT;
const QUEUE_TIMEOUT_MS = LATENCY_MS;
const OVERLOAD = 3;
const RECOVERY_LOAD = 0.9;
const plan = quick
  ? { capacityMs: 3000, unloadedMs: 3000, overloadMs: 5000, recoveryMs: 8000, rounds: 1 }
  : { capacityMs: 5000, unloadedMs: 5000, overloadMs: 15_000, recoveryMs: 10_000, rounds: 2 };
const CLASSES: ClientClass[] = [
  { name: 'critical', key: 'sk-bench-overload-critical', share: 0.2 },
  { name: 'standard', key: 'sk-bench-overload-standard', share: 0.5 },
  { name: 'sheddable', key: 'sk-bench-overload-sheddable', share: 0.3 },
];
const MESSAGES = [{ role: 'user', content: 'Say hello.' }];
const BUCKET_MS = 500;

const t0 = performance.now();
function log(text: string): void {
  process.stderr.write(`[overload ${((performance.now() - t0) / 1000).toFixed(1)}s] ${text}\n`);
}

function writeConfig(dir: string, mockUrl: string): string {
  const path = join(dir, 'gateway.json');
  const sha256 = (key: string): string => createHash('sha256').update(key).digest('hex');
  const config = {
    models: [{ name: 'chat', deployments: [{ name: 'mock', provider: 'openai-compatible', model: 'mock-gpt', baseUrl: `${mockUrl}/v1` }] }],
    auth: { clientKeys: CLASSES.map((c) => ({ name: c.name, sha256: sha256(c.key) })) },
    // One try, no cooldown: what is measured is admission, not the retry and circuit logic.
    retries: { maxAttempts: 1 },
    cooldown: { failureThreshold: 1_000_000, duration: '1s' },
    // Nothing is in flight at the end: exit at once on SIGTERM (and so within the time a --cpu-prof is written in).
    shutdown: { drainDelay: '0s', maxStreamDuration: '1s' },
    shedding: {
      maxConcurrency: MOCK_LIMIT,
      minConcurrency: Math.ceil(MOCK_LIMIT * 0.75),
      queue: { maxDepth: QUEUE_DEPTH, timeout: `${QUEUE_TIMEOUT_MS}ms` },
      retryAfter: '1s',
      clients: CLASSES.map((c) => ({ key: c.name, priority: c.name })),
    },
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

interface ShedTimes {
  /** Sheds that did not wait in the queue, and how many of them the gateway answered within 5 ms. */
  immediate: number;
  within5ms: number;
}

/**
 * Gateway side, from its access log (one line per request, with its duration) from byte `from`:
 * refusals told apart by their message, so queue timeouts and displaced waiters (which waited by
 * design) are left out exactly.
 */
function shedTimes(logPath: string, from: number): ShedTimes {
  const times = { immediate: 0, within5ms: 0 };
  for (const line of readFileSync(logPath).subarray(from).toString('utf8').split('\n')) {
    if (!line.includes('"msg":"request"')) continue;
    const entry = JSON.parse(line) as { status: number; reason: string; ms: number };
    if ((entry.status !== 503 && entry.status !== 429) || entry.reason.includes('queue timeout') || entry.reason.includes('took the place')) continue;
    times.immediate++;
    if (entry.ms <= 5) times.within5ms++;
  }
  return times;
}

/** V8 heap used and committed, and external (Buffer) memory of the gateway, from its own metrics. */
async function heapUsedMb(adminUrl: string): Promise<{ heap: number; committed: number; external: number }> {
  const lines = (await (await fetch(`${adminUrl}/metrics`)).text()).split('\n');
  const mb = (name: string): number => {
    const line = lines.find((l) => l.startsWith(`${name} `));
    return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1)) / 2 ** 20;
  };
  return {
    heap: mb('switchboard_process_nodejs_heap_size_used_bytes'),
    committed: mb('switchboard_process_nodejs_heap_size_total_bytes'),
    external: mb('switchboard_process_nodejs_external_memory_bytes'),
  };
}

/** Sends SIGUSR2 (a heap snapshot, taken after a full GC) and sums the live objects' sizes. */
async function liveHeapMb(pid: number, dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  let size = -1;
  for (;;) {
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (file !== undefined) {
      const now = statSync(join(dir, file)).size;
      // Written when its size stops changing.
      if (now > 0 && now === size) {
        const snapshot = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
        rmSync(join(dir, file));
        const fields = snapshot.snapshot.meta.node_fields;
        const self = fields.indexOf('self_size');
        let bytes = 0;
        for (let i = self; i < snapshot.nodes.length; i += fields.length) bytes += snapshot.nodes[i]!;
        return bytes / 2 ** 20;
      }
      size = now;
    }
    if (Date.now() > deadline) throw new Error('no heap snapshot from the gateway within 60 s');
    await delay(500);
  }
}

interface Row {
  metric: string;
  target: string;
  measured: string;
  result: 'pass' | 'miss' | '—';
}

const pass = (ok: boolean): Row['result'] => (ok ? 'pass' : 'miss');
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'switchboard-overload-'));
  const mock = await startMock('mock', { ttftMs: LATENCY_MS, tokensPerSecond: 0, responseTokens: 16, maxConcurrency: MOCK_LIMIT });
  // SIGUSR2 writes a heap snapshot (after a full GC) into the work dir: the live heap, for the leak check.
  const gatewayLog = join(work, 'gateway.log');
  const gateway = await startGateway('gateway', writeConfig(work, mock.url), gatewayLog, [
    '--heapsnapshot-signal=SIGUSR2',
    `--diagnostic-dir=${work}`,
    ...(flags.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${flags.profile}`]),
  ]);
  const closedGen: LoadGenerator = await startLoadGenerator();
  const overloadGen: LoadGenerator = await startLoadGenerator('bench/overload/loadgen.ts');
  // The overload generator speaks its own job type over the same IPC channel.
  const overload = (job: OverloadJob): Promise<OverloadResult> => overloadGen.run(job as unknown as Job) as unknown as Promise<OverloadResult>;
  const standard = chatTarget('standard', gateway, 'chat', MESSAGES, false, CLASSES[1]!.key);
  // Critical requests may use the whole limit (the others leave a reserve for them): capacity is measured with them.
  const critical = chatTarget('critical', gateway, 'chat', MESSAGES, false, CLASSES[0]!.key);
  try {
    log('warm-up');
    await closedGen.run({ kind: 'closed', target: standard, concurrency: MOCK_LIMIT / 2, warmupMs: 0, durationMs: 2000 });

    log('capacity: closed loop, one connection per upstream slot');
    const capacityRun = await closedGen.run<ThroughputResult>({ kind: 'closed', target: critical, concurrency: MOCK_LIMIT, warmupMs: 500, durationMs: plan.capacityMs });
    const capacity = capacityRun.rps;
    log(`capacity ${capacity.toFixed(0)} req/s (nominal ${((MOCK_LIMIT * 1000) / LATENCY_MS).toFixed(0)}), errors ${capacityRun.errors}`);

    log('unloaded latency: open loop at 0.5x capacity');
    const unloaded = await closedGen.run<ThroughputResult>({ kind: 'open', target: critical, rate: capacity * 0.5, durationMs: plan.unloadedMs, connections: MOCK_LIMIT * 2 });
    const unloadedP99 = percentile(unloaded.latencies.filter((l) => Number.isFinite(l)), 99);
    log(`unloaded p99 ${ms(unloadedP99)}, errors ${unloaded.errors}`);

    await fetch(`${mock.url}/mock/reset`, { method: 'POST' });
    const rss = [memoryOf(gateway.pid).rssMb];
    const heap = [await heapUsedMb(gateway.adminUrl)];
    const live: number[] = [];
    const logBefore = statSync(gatewayLog).size;
    const results: OverloadResult[] = [];
    let sheds: ShedTimes = { immediate: 0, within5ms: 0 };
    for (let round = 1; round <= plan.rounds; round++) {
      log(`overload round ${round}: ${OVERLOAD}x capacity for ${plan.overloadMs / 1000} s, then ${RECOVERY_LOAD}x for ${plan.recoveryMs / 1000} s`);
      results.push(
        await overload({
          kind: 'overload',
          origin: gateway.url,
          body: JSON.stringify({ model: 'chat', messages: MESSAGES }),
          classes: CLASSES,
          phases: [
            { name: 'overload', rate: capacity * OVERLOAD, durationMs: plan.overloadMs },
            { name: 'recovery', rate: capacity * RECOVERY_LOAD, durationMs: plan.recoveryMs },
          ],
          connections: 1024,
        }),
      );
      // Let the last responses and sockets go before reading memory.
      await delay(2000);
      rss.push(memoryOf(gateway.pid).rssMb);
      heap.push(await heapUsedMb(gateway.adminUrl));
      live.push(await liveHeapMb(gateway.pid, work));
      log(`live heap after round ${round}: ${live[live.length - 1]!.toFixed(1)} MB`);
      if (round === 1) {
        sheds = shedTimes(gatewayLog, logBefore);
      }
    }
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    log(`gateway: ${metrics.split('\n').filter((l) => /^switchboard_(shed_total|admission_limit) /.test(l) || l.startsWith('switchboard_shed_total{')).join('; ')}`);
    const upstream = (await (await fetch(`${mock.url}/mock/stats`)).json()) as { concurrency: { peak: number; refused: number } };

    const { rows, broken } = analyse(results[0]!, { capacity, unloadedP99, unloadedErrors: unloaded.errors, rss, heap, live, sheds, upstream: upstream.concurrency, capacityErrors: capacityRun.errors });
    const header = `Overload (\`npm run bench:overload${quick ? ' -- --quick' : ''}\`, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} vCPU, load average ${loadavg()[0]!.toFixed(1)} at the end; mock: ${LATENCY_MS} ms per answer, at most ${MOCK_LIMIT} at once; gateway limit ${MOCK_LIMIT}, queue ${QUEUE_DEPTH} for ${QUEUE_TIMEOUT_MS} ms; offered mix 20 % critical, 50 % standard, 30 % sheddable keys):`;
    const table = ['| metric | target | measured | result |', '|---|---|---|---|', ...rows.map((r) => `| ${r.metric} | ${r.target} | ${r.measured} | ${r.result} |`)].join('\n');
    const text = `${header}\n\n${table}\n`;
    process.stdout.write(`\n${text}`);
    const name = quick ? 'overload-quick' : 'overload';
    mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
    writeFileSync(join(repoRoot, 'bench/results', `${name}.md`), text);
    writeFileSync(join(repoRoot, 'bench/results', `${name}.json`), `${JSON.stringify({ rows, broken, capacity, unloadedP99 }, null, 2)}\n`);
    if (broken.length > 0) {
      process.stderr.write(`broken behaviour:\n${broken.map((b) => `  - ${b}`).join('\n')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await Promise.all([closedGen.stop(), overloadGen.stop()]);
    await gateway.stop();
    await mock.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

interface Context {
  capacity: number;
  unloadedP99: number;
  /** Gateway side, round 1: sheds that did not wait in the queue, and how many were answered within 5 ms. */
  sheds: ShedTimes;
  /** Gateway RSS and V8 heap used before the first round and after each, MB. */
  rss: number[];
  heap: { heap: number; committed: number; external: number }[];
  /** Live V8 heap after a full GC (a heap snapshot) after each round, MB. */
  live: number[];
  unloadedErrors: number;
  upstream: { peak: number; refused: number };
  capacityErrors: number;
}

function analyse(r: OverloadResult, c: Context): { rows: Row[]; broken: string[] } {
  const overloadEnd = plan.overloadMs;
  const inOverload = (i: number): boolean => r.at[i]! < overloadEnd;
  const n = r.at.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const over = idx.filter(inOverload);
  const admitted = over.filter((i) => r.status[i] === 200);
  const shed = over.filter((i) => r.status[i] === 503 || r.status[i] === 429);
  const odd = idx.filter((i) => ![200, 429, 503].includes(r.status[i]!));
  const goodput = (admitted.length * 1000) / plan.overloadMs;
  const admittedP99 = percentile(admitted.map((i) => r.latency[i]!), 99);
  const admittedServiceP99 = percentile(admitted.map((i) => r.service[i]!), 99);
  // Critical requests rarely wait in the queue (a tenth of the limit is theirs): their p99 against the
  // standard ones' tells queueing from a slow machine (upstream and event loops under the extra load).
  const admittedP99Of = (k: number): number => percentile(admitted.filter((i) => r.cls[i] === k).map((i) => r.latency[i]!), 99);
  const immediate = shed.filter((i) => r.waited[i] === 0);
  const timedOut = shed.filter((i) => r.waited[i] === 1).length;
  const displaced = shed.filter((i) => r.waited[i] === 2).length;
  const shedSummary = summarize(immediate.map((i) => r.service[i]!));
  const share = CLASSES.map((_, k) => {
    const mine = over.filter((i) => r.cls[i] === k);
    return mine.filter((i) => r.status[i] === 200).length / Math.max(1, mine.length);
  });
  const [critical, standard, sheddable] = share as [number, number, number];

  // Recovery: from the end of the overload, the first bucket after which every bucket serves >= 99 %.
  const after = idx.filter((i) => !inOverload(i));
  const buckets: { ok: number; all: number }[] = [];
  for (const i of after) {
    const b = Math.floor((r.at[i]! - overloadEnd) / BUCKET_MS);
    buckets[b] ??= { ok: 0, all: 0 };
    buckets[b].all++;
    if (r.status[i] === 200) buckets[b].ok++;
  }
  log(`served per ${BUCKET_MS} ms after the overload: ${buckets.map((b) => (b ? pct(b.ok / b.all) : '-')).join(' ')}`);
  // Recovery: the first bucket after the overload in which >= 99 % of the offered requests are served.
  const recovered = buckets.findIndex((b) => b !== undefined && b.ok / b.all >= 0.99);
  const recoveryMs = recovered < 0 ? Number.NaN : recovered * BUCKET_MS;
  const rest = buckets.slice(Math.max(0, recovered)).filter((b) => b !== undefined);
  const servedAfter = rest.reduce((sum, b) => sum + b.ok, 0) / Math.max(1, rest.reduce((sum, b) => sum + b.all, 0));
  // Growth of the live heap from one overload round to the next is a leak; RSS also follows how
  // much heap V8 keeps committed after a burst, which it gives back only slowly.
  const liveGrowth = c.live.length > 1 ? c.live[c.live.length - 1]! - c.live[0]! : 0;
  // Queue timeouts and displaced waiters waited in the queue by design: they are not immediate sheds.
  const immediateWithin5ms = c.sheds.within5ms / Math.max(1, c.sheds.immediate);
  const rows: Row[] = [
    { metric: 'Capacity (closed loop, one connection per upstream slot)', target: 'measured first', measured: `${c.capacity.toFixed(0)} req/s (nominal ${((MOCK_LIMIT * 1000) / LATENCY_MS).toFixed(0)})`, result: '—' },
    { metric: 'Unloaded p99 (open loop at 0.5× capacity)', target: 'baseline', measured: `${ms(c.unloadedP99)}${c.unloadedErrors > 0 ? ` (${c.unloadedErrors} errors)` : ''}`, result: '—' },
    { metric: `Goodput at ${OVERLOAD}× capacity offered`, target: '≥ 90 % of capacity', measured: `${goodput.toFixed(0)} req/s = ${pct(goodput / c.capacity)}`, result: pass(goodput >= 0.9 * c.capacity) },
    { metric: 'p99 latency of admitted requests (from scheduled start)', target: `≤ 2× unloaded p99 (${ms(2 * c.unloadedP99)})`, measured: `${ms(admittedP99)} (from send: ${ms(admittedServiceP99)})`, result: pass(admittedP99 <= 2 * c.unloadedP99) },
    { metric: 'p99 of admitted critical / standard requests (from scheduled start)', target: 'report (critical ones seldom queue)', measured: `${ms(admittedP99Of(0))} / ${ms(admittedP99Of(1))}`, result: '—' },
    {
      metric: 'Immediate sheds (503/429, not queue timeouts), client side from send: p50 / p99',
      target: 'report (includes the load generator\'s own stalls)',
      measured: `${ms(shedSummary.p50)} / ${ms(shedSummary.p99)} (${immediate.length} immediate; ${timedOut} after the queue timeout, ${displaced} displaced from the queue)`,
      result: '—',
    },
    {
      metric: 'Immediate sheds answered within 5 ms, gateway side (access log, round 1)',
      target: '≥ 99 % (p99 ≤ 5 ms)',
      measured: `${pct(immediateWithin5ms)} of ${c.sheds.immediate}`,
      result: pass(immediateWithin5ms >= 0.99),
    },
    { metric: 'Critical requests admitted', target: '≥ 99 %', measured: pct(critical), result: pass(critical >= 0.99) },
    { metric: 'Sheddable shed first: admitted sheddable / standard / critical', target: 'sheddable ≤ standard ≤ critical', measured: `${pct(sheddable)} / ${pct(standard)} / ${pct(critical)}`, result: pass(sheddable <= standard && standard <= critical) },
    { metric: `Full goodput again after the overload ends (${RECOVERY_LOAD}× capacity offered; ≥ 99 % served in a 0.5 s bucket)`, target: '≤ 5 s', measured: Number.isNaN(recoveryMs) ? 'not recovered' : `${(recoveryMs / 1000).toFixed(1)} s (then ${pct(servedAfter)} served)`, result: pass(recoveryMs <= 5000) },
    {
      metric: c.live.length > 1 ? 'Live V8 heap after a full GC, after round 1 / round 2 (heap snapshots)' : 'Live V8 heap after a full GC, after the overload',
      target: c.live.length > 1 ? 'no growth (≤ 5 %)' : 'report',
      measured: `${c.live.map((m) => m.toFixed(1)).join(' / ')} MB`,
      result: c.live.length > 1 ? pass(liveGrowth <= 0.05 * c.live[0]!) : '—',
    },
    {
      metric: 'Gateway RSS before / after each round (V8 heap committed)',
      target: 'report',
      measured: `${c.rss.map((m) => m.toFixed(0)).join(' / ')} MB (${c.heap.map((m) => m.committed.toFixed(0)).join(' / ')} MB)`,
      result: '—',
    },
    { metric: 'Upstream over its limit (mock 429s) / peak concurrency', target: `0 / ≤ ${MOCK_LIMIT}`, measured: `${c.upstream.refused} / ${c.upstream.peak}`, result: pass(c.upstream.refused === 0 && c.upstream.peak <= MOCK_LIMIT) },
    { metric: 'Load generator send lag (max)', target: 'report', measured: ms(r.maxSendLagMs), result: '—' },
  ];
  const broken: string[] = [];
  if (odd.length > 0) broken.push(`${odd.length} requests ended neither 200 nor 429/503 (first error: ${r.firstError ?? `HTTP ${r.status[odd[0]!]}`})`);
  if (c.capacityErrors > 0) broken.push(`${c.capacityErrors} errors while measuring capacity`);
  if (critical < 0.9) broken.push(`only ${pct(critical)} of critical requests admitted`);
  if (goodput < 0.5 * c.capacity) broken.push(`goodput collapsed to ${pct(goodput / c.capacity)} of capacity`);
  if (Number.isNaN(recoveryMs)) broken.push('goodput did not recover after the overload');
  return { rows, broken };
}

process.exitCode = await main();
