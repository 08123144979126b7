// Router artifact load time (issue 5: "loads in < 200 ms for 10k examples"). Trains each head on
// 10,000 examples (the shared training data, repeated with a variant tag until there are 10k
// distinct queries), then times, interleaved and repeated, what a hot swap costs:
//   decode   LearnedRouter.load(bytes): header, payload sha256, tensors, head
//   swap     the data plane's path for a signed artifact: digest, ed25519 check, decode, candidate
//            check; as a plain file or URI download, and gzip-compressed (as in a ConfigMap)
// next to two references measured in the same loop: sha256 of the artifact bytes (fixed work
// that shows how busy the machine was) and JSON.parse of the same tensors as JSON arrays (what a
// text format would cost). Writes bench/results/routing-load.md. Needs the build (`npx tsc -b`).
// usage: node bench/routing/load.ts [--kinds knn,linear,mlp] [--examples 10000] [--repeats 9]
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { decodeArtifact, LearnedRouter, type RoutingExample } from '../../dataplane/dist/routing/learned/index.js';
import { compileRoutingModel } from '../../dataplane/dist/config/router-artifact.js';
import { signArtifact } from '../../dataplane/dist/routing/rollout/signature.js';
import { repoRoot } from '../lib/processes.ts';
import { loadRoutingData, routingDataOptions } from '../lib/routing-data.ts';

const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'knn,linear,mlp' },
    examples: { type: 'string', default: '10000' },
    repeats: { type: 'string', default: '9' },
    ...routingDataOptions,
  },
});
const wanted = Number(flags.examples);
const repeats = Number(flags.repeats);
const { examples: base, prices } = loadRoutingData(flags);
const examples: RoutingExample[] = Array.from({ length: wanted }, (_, i) => {
  const e = base[i % base.length]!;
  const round = Math.floor(i / base.length);
  return round === 0 ? e : { ...e, query: `${e.query}\n(variant ${round})` };
});

const keys = generateKeyPairSync('ed25519');
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;

interface Subject {
  kind: string;
  bytes: Uint8Array;
  signed: Uint8Array;
  gzipped: Uint8Array;
  json: string;
  models: string[];
}

function subject(kind: string): Subject {
  const router = LearnedRouter.train(examples, prices, { kind, seed: 1 });
  const { bytes } = router.encode();
  const artifact = decodeArtifact(bytes);
  const json = JSON.stringify(Object.fromEntries([...artifact.tensors].map(([name, t]) => [name, Array.from(t.data)])));
  const signed = signArtifact(bytes, privatePem).bytes;
  return { kind, bytes, signed, gzipped: gzipSync(signed), json, models: [...router.models] };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

function measure(s: Subject): Record<string, number[]> {
  const spec = {
    name: 'bench',
    mode: 'active' as const,
    artifact: { configMap: { name: 'bench', key: 'artifact.gz' } },
    publicKey: { file: 'bench.pem' },
    candidates: Object.fromEntries(s.models.map((m) => [m, m])),
  };
  const steps: Record<string, () => unknown> = {
    decode: () => LearnedRouter.load(s.bytes),
    swap: () => compileRoutingModel('bench', spec, { configMaps: () => s.signed, publicKey: () => publicPem }),
    'swap gzip': () => compileRoutingModel('bench', spec, { configMaps: () => s.gzipped, publicKey: () => publicPem }),
    'sha256 (reference)': () => createHash('sha256').update(s.bytes).digest(),
    'JSON.parse (reference)': () => JSON.parse(s.json),
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
  for (const fn of Object.values(steps)) fn(); // warm up
  for (let r = 0; r < repeats; r++) {
    const names = Object.keys(steps);
    // Rotate the order so no step always runs first (or right after a GC-heavy one).
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      const started = performance.now();
      steps[name]!();
      times[name]!.push(performance.now() - started);
    }
  }
  return times;
}

const lines: string[] = [
  `Router artifact load, ${examples.length} training examples, ${repeats} interleaved repeats (median / min ms); ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(2)} at start.`,
  '',
  '| head | artifact | gzip | decode | swap, signed | swap, signed + gzip | sha256 of the bytes (ref) | JSON.parse of the tensors (ref) | decode / sha256 | JSON.parse / decode |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const kind of flags.kinds.split(',')) {
  const s = subject(kind);
  const t = measure(s);
  const m = (k: string): number => median(t[k]!);
  const cell = (k: string): string => `${fmt(m(k))} / ${fmt(Math.min(...t[k]!))}`;
  lines.push(
    `| ${kind} | ${(s.bytes.length / 1e6).toFixed(2)} MB | ${(s.gzipped.length / 1e6).toFixed(2)} MB | ${cell('decode')} | ${cell('swap')} | ${cell('swap gzip')} | ${cell('sha256 (reference)')} | ${cell('JSON.parse (reference)')} | ${(m('decode') / m('sha256 (reference)')).toFixed(1)}× | ${(m('JSON.parse (reference)') / m('decode')).toFixed(1)}× |`,
  );
  console.log(lines.at(-1));
}
const table = `${lines.join('\n')}\n\nTarget: < 200 ms for 10k examples.\n`;
console.log(`\n${table}`);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/routing-load.md'), table);
