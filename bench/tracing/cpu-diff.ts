// Where a traced gateway spends more CPU than an untraced one: each gateway alone under the same
// closed-loop load with a V8 CPU profile, self time per request by function, then the difference.
// usage: node bench/tracing/cpu-diff.ts [--seconds N] [--rows N]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ThroughputResult } from '../lib/jobs.ts';
import { startGateway, startLoadGenerator, startMock } from '../lib/processes.ts';
import { chatTarget } from '../lib/gateway.ts';
import { benchGatewayConfig, startNullSink } from './setup.ts';
import { frameLabel, type CpuProfile } from './v8-profile.ts';

const { values: flags } = parseArgs({ options: { seconds: { type: 'string', default: '6' }, rows: { type: 'string', default: '40' } } });
const KEY = 'sk-bench-cpu-diff-0001';
const work = mkdtempSync(join(tmpdir(), 'switchboard-cpu-diff-'));

/** What the kernel counted for a process (all threads): CPU seconds, minor page faults, context switches. */
function counters(pid: number): { cpu: number; minflt: number; voluntary: number; involuntary: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { cpu: (Number(fields[11]) + Number(fields[12])) / 100, minflt: Number(fields[7]), voluntary: field('voluntary_ctxt_switches'), involuntary: field('nonvoluntary_ctxt_switches') };
}

/** Self time in µs by function over the whole profile. */
function selfTimes(file: string): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, frameLabel(n.callFrame)]));
  const out = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = byId.get(id)!;
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return out;
}

const load = await startLoadGenerator();
const mock = await startMock('mock', { ttftMs: 0, tokensPerSecond: 0, responseTokens: 16 });
const sink = await startNullSink();
const result: Record<string, { perRequest: Map<string, number>; requests: number }> = {};
try {
  for (const traced of [false, true]) {
    const name = traced ? 'on' : 'off';
    const configPath = benchGatewayConfig(work, KEY, mock.url, traced ? sink.otlpUrl : undefined);
    const dir = join(work, name);
    const gateway = await startGateway(name, configPath, join(work, `${name}.log`), ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const target = chatTarget(name, gateway, 'bench', [{ role: 'user', content: 'Summarise the trade-offs of least-in-flight balancing.' }], false, KEY);
    const before = counters(gateway.pid);
    const r = await load.run<ThroughputResult>({ kind: 'closed', target, concurrency: 32, warmupMs: 1000, durationMs: Number(flags.seconds) * 1000 });
    const after = counters(gateway.pid);
    await gateway.stop();
    const requests = r.rps * (1 + Number(flags.seconds));
    process.stdout.write(`${name}: kernel counts per request: CPU ${(((after.cpu - before.cpu) / requests) * 1e6).toFixed(1)} µs, minor faults ${((after.minflt - before.minflt) / requests).toFixed(3)}, context switches voluntary ${((after.voluntary - before.voluntary) / requests).toFixed(3)} involuntary ${((after.involuntary - before.involuntary) / requests).toFixed(3)}\n`);
    const times = selfTimes(join(dir, readdirSync(dir)[0]!));
    result[name] = { perRequest: new Map([...times].map(([k, v]) => [k, v / requests])), requests };
    process.stdout.write(`${name}: ${r.rps.toFixed(0)} req/s; ${([...times].filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0) / requests).toFixed(1)} µs busy per request\n`);
  }
  const { off, on } = result as Record<'off' | 'on', { perRequest: Map<string, number> }>;
  const keys = new Set([...off.perRequest.keys(), ...on.perRequest.keys()]);
  const diff = [...keys].map((k) => [k, (on.perRequest.get(k) ?? 0) - (off.perRequest.get(k) ?? 0), off.perRequest.get(k) ?? 0, on.perRequest.get(k) ?? 0] as const).filter(([k]) => !k.startsWith('(idle)'));
  const total = diff.reduce((a, [, d]) => a + d, 0);
  process.stdout.write(`\ntraced - untraced, µs per request (self time): ${total.toFixed(1)}\n`);
  for (const [k, d, a, b] of diff.sort((x, y) => y[1] - x[1]).slice(0, Number(flags.rows))) process.stdout.write(`${d.toFixed(2).padStart(7)}  ${a.toFixed(2).padStart(7)} ${b.toFixed(2).padStart(7)}  ${k}\n`);
} finally {
  await mock.stop();
  await load.stop();
  await sink.stop();
  rmSync(work, { recursive: true, force: true });
}
