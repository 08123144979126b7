// What a loaded gateway allocates that outlives a young-generation collection: V8's sampling heap
// profiler over the inspector, keeping samples that survive a scavenge (collected later by a
// mark-compact or still alive), under closed-loop load. Such objects are copied, promoted and
// marked: each byte costs far more than one that dies young.
// usage: node bench/tracing/survivors.ts [--traced] [--seconds N] [--rows N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ThroughputResult } from '../lib/jobs.ts';
import { freePort, startGateway, startLoadGenerator, startMock, startReference } from '../lib/processes.ts';
import { chatTarget } from '../lib/gateway.ts';
import { benchGatewayConfig, startNullSink } from './setup.ts';
import { frameLabel, type CallFrame } from './v8-profile.ts';

const { values: flags } = parseArgs({ options: { traced: { type: 'boolean' }, reference: { type: 'boolean' }, all: { type: 'boolean' }, seconds: { type: 'string', default: '4' }, rows: { type: 'string', default: '40' } } });
const KEY = 'sk-bench-survivors-0001';
const work = mkdtempSync(join(tmpdir(), 'switchboard-survivors-'));

interface SampledNode {
  id: number;
  selfSize: number;
  callFrame: CallFrame;
  children: SampledNode[];
}

/** One Chrome DevTools Protocol session over the inspector's WebSocket. */
async function devtools(port: number): Promise<{ send(method: string, params?: object): Promise<Record<string, unknown>>; close(): void }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let next = 1;
  const waiting = new Map<number, (result: Record<string, unknown>) => void>();
  ws.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: Record<string, unknown> };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result ?? {});
  };
  return {
    send(method, params = {}) {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    close: () => ws.close(),
  };
}

const load = await startLoadGenerator();
const mock = await startMock('mock', { ttftMs: 0, tokensPerSecond: 0, responseTokens: 16 });
const sink = await startNullSink();
const configPath = benchGatewayConfig(work, KEY, mock.url, flags.traced ? sink.otlpUrl : undefined);
const inspectPort = await freePort();
const inspect = [`--inspect=127.0.0.1:${inspectPort}`];
const gateway = flags.reference ? await startReference('reference', mock.url, inspect) : await startGateway('gateway', configPath, join(work, 'gateway.log'), inspect);
const target = chatTarget('gateway', gateway, 'bench', [{ role: 'user', content: 'Summarise the trade-offs of least-in-flight balancing.' }], false, KEY);
try {
  await load.run<ThroughputResult>({ kind: 'closed', target, concurrency: 32, warmupMs: 500, durationMs: 2000 });
  const session = await devtools(inspectPort);
  await session.send('HeapProfiler.enable');
  await session.send('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: flags.all === true });
  const r = await load.run<ThroughputResult>({ kind: 'closed', target, concurrency: 32, warmupMs: 0, durationMs: Number(flags.seconds) * 1000 });
  const { profile } = (await session.send('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } };
  session.close();
  const requests = r.completed;
  const self = new Map<string, number>();
  const stacks = new Map<string, number>();
  const walk = (node: SampledNode, path: string[]): void => {
    const here = [...path, frameLabel(node.callFrame)];
    if (node.selfSize > 0) {
      self.set(here.at(-1)!, (self.get(here.at(-1)!) ?? 0) + node.selfSize);
      const stack = here.slice(-6).reverse().join(' < ');
      stacks.set(stack, (stacks.get(stack) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head, []);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const rows = Number(flags.rows);
  process.stdout.write(`${requests} requests; ${(total / requests).toFixed(0)} bytes per request ${flags.all ? 'allocated' : 'outlived a scavenge'} (sampled)\n\nby allocating function:\n`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${(v / requests).toFixed(1).padStart(8)} B/req  ${k}\n`);
  process.stdout.write('\nby stack:\n');
  for (const [k, v] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${(v / requests).toFixed(1).padStart(8)} B/req  ${k}\n`);
} finally {
  await gateway.stop();
  await mock.stop();
  await sink.stop();
  await load.stop();
  rmSync(work, { recursive: true, force: true });
}
