// Hot reload end to end, timed: the rig of test/hot-reload (real etcd + kube-apiserver, the
// operator, the mock, two `switchboard gateway --configmap` processes, 240 rps open-loop load, a
// quarter streamed) takes N GatewayConfig changes with `kubectl apply`, one at a time, and this
// times each until both data planes serve its hash (/readyz) and until ConfigApplied is True.
// The test checks the behaviour; the speed target lives here. Needs the cluster binaries
// (`make test-servers`, i.e. scripts/cluster/ensure.sh). Prints a markdown table and writes
// bench/results/hot-reload{,-quick}.{md,json}; exits 1 when a target is missed.
// usage: node bench/hot-reload/run.ts [--quick] [--changes N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../test/operator-e2e/operator-process.ts';
import { HotReloadRig, describeChanges, type TimedChange } from '../../test/hot-reload/rig.ts';
import { describeLoad } from '../../test/hot-reload/load.ts';
import { percentile } from '../lib/stats.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, changes: { type: 'string' } } });
const quick = flags.quick === true;
const changeCount = flags.changes === undefined ? (quick ? 5 : 20) : Number(flags.changes);
if (!Number.isInteger(changeCount) || changeCount < 1) {
  process.stderr.write(`--changes must be a positive integer, got "${flags.changes}"\n`);
  process.exit(2);
}
const RPS = 240;
const TARGET_P99_MS = 1000;
/** Long enough that a slow change is measured (and misses the target) rather than aborting the run. */
const CHANGE_TIMEOUT_MS = 30_000;
const t0 = performance.now();

function log(text: string): void {
  process.stderr.write(`[hot-reload-bench ${((performance.now() - t0) / 1000).toFixed(1)}s] ${text}\n`);
}

interface Row {
  metric: string;
  target: string;
  measured: string;
  result: 'pass' | 'miss' | '—';
}

const fmt = (v: number): string => `${v.toFixed(0)} ms`;
const p50p99 = (values: number[]): string => `p50 ${fmt(percentile(values, 50))}, p99 ${fmt(percentile(values, 99))}`;

async function measure(rig: HotReloadRig): Promise<{ rows: Row[]; changes: TimedChange[] }> {
  const from = performance.now();
  const changes = await rig.timedChanges(1, changeCount, CHANGE_TIMEOUT_MS);
  const to = performance.now();
  await rig.load.stop();
  log(describeChanges(changes));
  log(describeLoad(rig.load));

  const serving = changes.map((c) => c.toServing);
  const p99 = percentile(serving, 99);
  const during = rig.load.outcomes.filter((o) => o.start >= from && o.start <= to);
  const failed = during.filter((o) => o.error !== undefined).length;
  // Answered, but on a deployment (or an older config) that the config it reports rules out.
  const misrouted = rig.ledger.check(during.filter((o) => o.error === undefined)).length;
  const seconds = (to - from) / 1000;
  const rows: Row[] = [
    {
      metric: `\`kubectl apply\` started → both data planes serving the new hash (${changes.length} changes)`,
      target: `p99 ≤ ${TARGET_P99_MS / 1000} s`,
      measured: `${p50p99(serving)}, max ${fmt(Math.max(...serving))}`,
      result: p99 <= TARGET_P99_MS ? 'pass' : 'miss',
    },
    { metric: "the same, from `kubectl`'s exit", target: '—', measured: p50p99(changes.map((c) => c.afterKubectl)), result: '—' },
    { metric: '`kubectl apply` started → `ConfigApplied` True for the new hash', target: '—', measured: p50p99(changes.map((c) => c.toConfigApplied)), result: '—' },
    {
      metric: `requests during the changes (${RPS} rps open loop over both data planes, 25 % streamed): sent / failed / answered off the applied config`,
      target: '0 failed, 0 off',
      measured: `${during.length} (${(during.length / seconds).toFixed(0)} rps over ${seconds.toFixed(1)} s) / ${failed} / ${misrouted}`,
      result: failed === 0 && misrouted === 0 && rig.load.missed === 0 ? 'pass' : 'miss',
    },
  ];
  return { rows, changes };
}

async function main(): Promise<void> {
  log(`plan: ${changeCount} changes under ${RPS} rps${quick ? ' (--quick)' : ''}; building and starting the rig`);
  const rig = await HotReloadRig.start({ rps: RPS, maxLoadMs: 60_000 + changeCount * CHANGE_TIMEOUT_MS, log });
  process.once('SIGINT', () => void rig.stop().finally(() => process.exit(130)));
  let result: { rows: Row[]; changes: TimedChange[] };
  try {
    result = await measure(rig);
  } finally {
    await rig.stop();
  }
  const { rows, changes } = result;
  const env = `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB${quick ? ' · --quick' : ''}`;
  const table = ['| metric | target | measured | result |', '|---|---|---|---|', ...rows.map((r) => `| ${r.metric} | ${r.target} | ${r.measured} | ${r.result} |`)].join('\n');
  const report = `# Hot reload end to end\n\n${env}\n\n${table}\n\nLoad scheduled but not sent (over 2,000 in flight): ${rig.load.missed}.\n`;
  process.stdout.write(`${report}\n`);
  const name = quick ? 'hot-reload-quick' : 'hot-reload';
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), report);
  const samples = changes.map(({ hash, toServing, afterKubectl, toConfigApplied }) => ({ hash, toServing, afterKubectl, toConfigApplied }));
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ env, rows, samples }, null, 2)}\n`);
  log(`wrote bench/results/${name}.md and .json in ${((performance.now() - t0) / 1000).toFixed(0)} s total`);
  if (rows.some((r) => r.result === 'miss')) process.exitCode = 1;
}

await main();
