// Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time by function and self
// time by package, the top rows of each. usage: node bench/tracing/profile-summary.ts FILE [ROWS]
import { readFileSync } from 'node:fs';
import { frameLabel, type CpuProfile as Profile, type CpuProfileNode as ProfileNode } from './v8-profile.ts';

const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE [ROWS]');
const rows = Number(rowsArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function pkg(n: ProfileNode): string {
  const url = n.callFrame.url;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/dataplane/')) return `dataplane/${url.split('/dataplane/')[1]!.split('/').slice(0, -1).join('/')}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url === '' ? n.callFrame.functionName : 'other';
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  self.set(frameLabel(n.callFrame), (self.get(frameLabel(n.callFrame)) ?? 0) + us);
  packages.set(pkg(n), (packages.get(pkg(n)) ?? 0) + us);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = frameLabel(byId.get(at)!.callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

function top(title: string, m: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
}
process.stdout.write(`total ${(total / 1000).toFixed(0)} ms sampled\n`);
top('self time by package', packages);
top('self time by function', self);
top('inclusive time by function', inclusive);
