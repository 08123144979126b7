// Why an open-loop step of `make bench` does not hold: the same constant-rate steps as bench/run.ts
// (fractions of the gateway's closed-loop maximum, gateway and reference forwarder in turn, 256
// connections), each shown as a timeline of latency medians over ten slices of the step, with the
// CPU the load generator, the server and the mock used, the gateway's GC time and the load
// generator's own send lag. A stall in both servers at once, or a send lag as long as it, comes
// from the machine; a queue that grows only in one server comes from that server.
// usage: node bench/open-loop-timeline.ts [--reps 3] [--steps 0.6,0.7,0.8,0.9] [--step-ms 3000] [--warmup-ms 500]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Target, ThroughputResult } from './lib/jobs.ts';
import { cpuSeconds, startGateway, startLoadGenerator, startMock, startReference, type ServerProcess } from './lib/processes.ts';
import { chatTarget, gcSeconds, writeGatewayConfig } from './lib/gateway.ts';
import { finite, median, openLoopCheck } from './lib/stats.ts';

const { values: flags } = parseArgs({ options: { reps: { type: 'string', default: '3' }, steps: { type: 'string', default: '0.6,0.7,0.8,0.9' }, 'step-ms': { type: 'string', default: '3000' }, 'warmup-ms': { type: 'string', default: '500' } } });
const reps = Number(flags.reps);
const steps = flags.steps.split(',').map(Number);
const stepMs = Number(flags['step-ms']);
const warmupMs = Number(flags['warmup-ms']);
const SLICES = 10;
const CLIENT_KEY = 'sk-bench-client-0001';
const PROMPT = [
  { role: 'system', content: 'You are a concise assistant. Answer in one short paragraph.' },
  { role: 'user', content: 'Summarise the trade-offs between weighted and least-in-flight load balancing for LLM upstreams.' },
];

/** Median latency (ms, from the scheduled send) of each tenth of the step, in schedule order. */
function timeline(latencies: readonly (number | null)[]): string {
  const n = latencies.length;
  const out: string[] = [];
  for (let s = 0; s < SLICES; s++) {
    out.push(median(finite(latencies.slice(Math.floor((s * n) / SLICES), Math.floor(((s + 1) * n) / SLICES)))).toFixed(1));
  }
  return out.join(' ');
}

const work = mkdtempSync(join(tmpdir(), 'switchboard-open-loop-'));
const servers: ServerProcess[] = [];
const load = await startLoadGenerator();
try {
  const mock = await startMock('mock', { ttftMs: 0, tokensPerSecond: 0, responseTokens: 16 });
  servers.push(mock);
  const gateway = await startGateway('gateway', writeGatewayConfig(work, CLIENT_KEY, { bench: mock.url }), join(work, 'gateway.log'));
  servers.push(gateway);
  const reference = await startReference('reference', mock.url);
  servers.push(reference);
  const targets: [Target, ServerProcess][] = [
    [chatTarget('gateway', gateway, 'bench', PROMPT, false, CLIENT_KEY), gateway],
    [chatTarget('reference', reference, 'mock-gpt', PROMPT, false), reference],
  ];
  const closedMax: number[] = [];
  for (let round = 0; round < 4; round++) {
    for (const [target] of round % 2 === 0 ? [...targets].reverse() : targets) {
      const r = await load.run<ThroughputResult>({ kind: 'closed', target, concurrency: 64, warmupMs: 1000, durationMs: 4000 });
      if (target.name === 'gateway') closedMax.push(r.rps);
    }
  }
  const max = median(closedMax);
  process.stdout.write(`gateway closed-loop maximum ${max.toFixed(0)} req/s (rounds ${closedMax.map((r) => r.toFixed(0)).join(', ')})\n\n`);
  process.stdout.write('| rep | server | rate | held | generator / server / mock CPU (cores) | gateway GC ms/s | max send lag ms | latency medians per tenth of the step, ms |\n|---|---|---|---|---|---|---|---|\n');
  for (let rep = 1; rep <= reps; rep++) {
    for (const fraction of steps) {
      const rate = Math.round(max * fraction);
      for (const [target, server] of targets) {
        const before = { load: cpuSeconds(load.pid), server: cpuSeconds(server.pid), mock: cpuSeconds(mock.pid), gc: target.name === 'gateway' ? await gcSeconds(gateway.adminUrl) : 0 };
        const r = await load.run<ThroughputResult>({ kind: 'open', target, rate, durationMs: stepMs, connections: 256, warmupMs });
        const seconds = stepMs / 1000;
        const cores = (pid: number, was: number): string => ((cpuSeconds(pid) - was) / seconds).toFixed(2);
        const gc = target.name === 'gateway' ? ((((await gcSeconds(gateway.adminUrl)) - before.gc) * 1000) / seconds).toFixed(0) : '—';
        const { held } = openLoopCheck(r);
        process.stdout.write(
          `| ${rep} | ${target.name} | ${(fraction * 100).toFixed(0)} % (${rate}/s) | ${held ? 'yes' : 'no'} | ${cores(load.pid, before.load)} / ${cores(server.pid, before.server)} / ${cores(mock.pid, before.mock)} | ${gc} | ${r.maxSendLagMs.toFixed(1)} | ${timeline(r.latencies)} |\n`,
        );
      }
    }
  }
} finally {
  for (const s of servers.reverse()) await s.stop();
  await load.stop();
  rmSync(work, { recursive: true, force: true });
}
