// Hot reload end to end, timed, in three sections that share the tests' rigs; the tests check the
// behaviour, the speed targets live here. Each section applies N changes one at a time under
// 240 rps open-loop load (a quarter streamed) and times each until the data planes' /readyz
// report its hash:
//   1. file source (test/hot-reload/file-rig.ts): `switchboard gateway --config FILE` and
//      `switchboard mock` processes; each change is an atomic rename over the config file.
//   2. operator (test/hot-reload/rig.ts): real etcd + kube-apiserver, the operator, two
//      `switchboard gateway --configmap` processes; each change is a `kubectl apply` of the
//      GatewayConfig, also timed until ConfigApplied is True.
//   3. ConfigMap source without the operator: on the same cluster, a third data plane reads a
//      ConfigMap that `kubectl apply` writes directly (what test/dataplane-kube does in process).
// Sections 2 and 3 need the cluster binaries (`make test-servers`, i.e. scripts/cluster/ensure.sh).
// Prints markdown tables and writes bench/results/hot-reload{,-quick}.{md,json}; exits 1 when a
// target is missed.
// usage: node bench/hot-reload/run.ts [--quick] [--changes N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../test/operator-e2e/operator-process.ts';
import { describeEdits, StandaloneFileRig } from '../../test/hot-reload/file-rig.ts';
import { HotReloadRig, describeChanges } from '../../test/hot-reload/rig.ts';
import { describeLoad, type ConfigLedger, type OpenLoopLoad } from '../../test/hot-reload/load.ts';
import type { LoadedRig } from '../../test/hot-reload/loaded-rig.ts';
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
const MAX_LOAD_MS = 60_000 + 2 * changeCount * CHANGE_TIMEOUT_MS;
/** Changes of the direct ConfigMap are numbered apart from the GatewayConfig's, so no hash repeats. */
const FIRST_DIRECT_CHANGE = 1000;
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

interface Section {
  title: string;
  rows: Row[];
  /** Per change, ms from its start. */
  samples: object[];
}

/** A section's timings; its requests row is added once every request sent in [from, to] has ended. */
interface Timed extends Section {
  from: number;
  to: number;
  /** Which data planes took the load, for the requests row. */
  over: string;
}

/** What one rig measured: its sections, and one line on its load over the whole run. */
interface RigResult {
  sections: Section[];
  load: string;
}

/** `measure(rig)`, then stops everything the rig started, also on Ctrl-C. */
async function withRig<R extends { stop(): Promise<void> }, T>(rig: R, measure: (rig: R) => Promise<T>): Promise<T> {
  const onInterrupt = (): void => void rig.stop().finally(() => process.exit(130));
  process.once('SIGINT', onInterrupt);
  try {
    return await measure(rig);
  } finally {
    process.off('SIGINT', onInterrupt);
    await rig.stop();
  }
}

const fmt = (v: number): string => `${v.toFixed(0)} ms`;
const p50p99 = (values: number[]): string => `p50 ${fmt(percentile(values, 50))}, p99 ${fmt(percentile(values, 99))}`;

/** The p99 ≤ 1 s row for `values` (ms from the start of each change until it serves). */
function servingRow(metric: string, values: number[]): Row {
  const p99 = percentile(values, 99);
  return { metric, target: `p99 ≤ ${TARGET_P99_MS / 1000} s`, measured: `${p50p99(values)}, max ${fmt(Math.max(...values))}`, result: p99 <= TARGET_P99_MS ? 'pass' : 'miss' };
}

/** Requests sent from `from` to `to`: how many failed and how many were answered off the config they report. */
function requestsRow(load: OpenLoopLoad, ledger: ConfigLedger, from: number, to: number, over: string): Row {
  const during = load.outcomes.filter((o) => o.start >= from && o.start <= to);
  const failed = during.filter((o) => o.error !== undefined).length;
  // Answered, but on a deployment (or an older config) that the config it reports rules out.
  const misrouted = ledger.check(during.filter((o) => o.error === undefined)).length;
  const seconds = (to - from) / 1000;
  return {
    metric: `requests during the changes (${RPS} rps open loop over ${over}, 25 % streamed): sent / failed / answered off the applied config`,
    target: '0 failed, 0 off',
    measured: `${during.length} (${(during.length / seconds).toFixed(0)} rps over ${seconds.toFixed(1)} s) / ${failed} / ${misrouted}${load.missed ? `; ${load.missed} not sent (over 2,000 in flight)` : ''}`,
    result: failed === 0 && misrouted === 0 && load.missed === 0 ? 'pass' : 'miss',
  };
}

/** Stops the load (waiting for every request in flight), then adds each section's requests row. */
async function finish(rig: LoadedRig, timed: Timed[]): Promise<RigResult> {
  await rig.load.stop();
  const load = describeLoad(rig.load);
  log(load);
  for (const o of rig.load.failures().slice(0, 5)) log(`failed: ${o.target}, sent at ${((o.start - t0) / 1000).toFixed(1)} s, ended ${((o.end - o.start) / 1000).toFixed(1)} s later: ${o.error}`);
  const sections = timed.map(({ title, rows, samples, from, to, over }) => ({ title, rows: [...rows, requestsRow(rig.load, rig.ledger, from, to, over)], samples }));
  return { sections, load };
}

async function fileSource(): Promise<RigResult> {
  log(`file source: ${changeCount} edits; building and starting the mock and the gateway`);
  return withRig(await StandaloneFileRig.start({ rps: RPS, maxLoadMs: MAX_LOAD_MS, log }), async (rig) => {
    const from = performance.now();
    const toServing = await rig.applyEdits(1, changeCount, CHANGE_TIMEOUT_MS);
    const to = performance.now();
    log(describeEdits(toServing));
    const metric = `file edit (write a temporary file, rename it over the config) → the gateway serving the new hash (${toServing.length} edits)`;
    const samples = toServing.map((ms) => ({ toServing: ms }));
    return finish(rig, [{ title: 'File source: `switchboard gateway --config FILE`', rows: [servingRow(metric, toServing)], samples, from, to, over: 'the gateway' }]);
  });
}

async function operatorPath(rig: HotReloadRig): Promise<Timed> {
  const from = performance.now();
  const changes = await rig.timedChanges(1, changeCount, CHANGE_TIMEOUT_MS);
  const to = performance.now();
  log(describeChanges(changes));
  return {
    title: 'Kubernetes: `kubectl apply` GatewayConfig → operator → two data planes (`--configmap`)',
    rows: [
      servingRow(`\`kubectl apply\` started → both data planes serving the new hash (${changes.length} changes)`, changes.map((c) => c.toServing)),
      { metric: "the same, from `kubectl`'s exit", target: '—', measured: p50p99(changes.map((c) => c.afterKubectl)), result: '—' },
      { metric: '`kubectl apply` started → `ConfigApplied` True for the new hash', target: '—', measured: p50p99(changes.map((c) => c.toConfigApplied)), result: '—' },
    ],
    samples: changes.map(({ hash, toServing, afterKubectl, toConfigApplied }) => ({ hash, toServing, afterKubectl, toConfigApplied })),
    from,
    to,
    over: 'both data planes',
  };
}

/** On the operator section's cluster, after it: the load moves to a data plane of its own. */
async function configMapSource(rig: HotReloadRig): Promise<Timed> {
  const direct = await rig.startDirectDataPlane(FIRST_DIRECT_CHANGE);
  rig.load.setTargets([direct]);
  const from = performance.now();
  const changes = await rig.timedConfigMapChanges(direct, FIRST_DIRECT_CHANGE + 1, changeCount, CHANGE_TIMEOUT_MS);
  const to = performance.now();
  const serving = servingRow(`\`kubectl apply\` of the ConfigMap started → the data plane serving the new hash (${changes.length} changes)`, changes.map((c) => c.toServing));
  const afterKubectl = p50p99(changes.map((c) => c.afterKubectl));
  log(`kubectl apply ConfigMap -> serving, ${changes.length} changes: ${serving.measured} (from kubectl's exit: ${afterKubectl})`);
  return {
    title: 'Kubernetes without the operator: `kubectl apply` ConfigMap → one data plane (`--configmap`)',
    rows: [serving, { metric: "the same, from `kubectl`'s exit", target: '—', measured: afterKubectl, result: '—' }],
    samples: changes,
    from,
    to,
    over: 'the data plane',
  };
}

async function kubernetes(): Promise<RigResult> {
  log(`kubernetes: ${changeCount} GatewayConfig changes, then ${changeCount} direct ConfigMap changes; building and starting the rig`);
  return withRig(await HotReloadRig.start({ rps: RPS, maxLoadMs: MAX_LOAD_MS, log }), async (rig) => finish(rig, [await operatorPath(rig), await configMapSource(rig)]));
}

async function main(): Promise<void> {
  log(`plan: ${changeCount} changes per section under ${RPS} rps${quick ? ' (--quick)' : ''}`);
  const rigs = [await fileSource(), await kubernetes()];
  const sections = rigs.flatMap((r) => r.sections);
  const env = `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB${quick ? ' · --quick' : ''}`;
  const table = (rows: Row[]): string => ['| metric | target | measured | result |', '|---|---|---|---|', ...rows.map((r) => `| ${r.metric} | ${r.target} | ${r.measured} | ${r.result} |`)].join('\n');
  const loads = `Load over each rig's whole run (set-up and the gap between sections included):\n\n${rigs.map((r) => `- ${r.load}`).join('\n')}\n`;
  const report = `# Hot reload end to end\n\n${env}\n${sections.map((s) => `\n## ${s.title}\n\n${table(s.rows)}\n`).join('')}\n${loads}`;
  process.stdout.write(`${report}\n`);
  const name = quick ? 'hot-reload-quick' : 'hot-reload';
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), report);
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ env, sections }, null, 2)}\n`);
  log(`wrote bench/results/${name}.md and .json in ${((performance.now() - t0) / 1000).toFixed(0)} s total`);
  if (sections.some((s) => s.rows.some((r) => r.result === 'miss'))) process.exitCode = 1;
}

await main();
