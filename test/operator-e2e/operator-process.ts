// Real operator processes for end-to-end tests and benchmarks: build once (tsc -b), spawn
// `node operator/bin/switchboard-operator.js` against a test/cluster apiserver, read its JSON logs
// and /metrics, stop it with a signal. Erasable TypeScript with `.ts` imports, so both jest and
// Node's type stripping (bench/operator/run.ts) load it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../cluster/cluster.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const operatorBin = path.join(repoRoot, 'operator', 'bin', 'switchboard-operator.js');
export const crdDir = path.join(repoRoot, 'crds', 'generated');
export const DATA_PLANE_IMAGE = 'switchboard/dataplane:e2e';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `tsc -b` for the whole repo (the operator's dist/), serialised across concurrent test files. */
export async function buildOperator(): Promise<void> {
  const lock = path.join(os.tmpdir(), `switchboard-tsc-build-${repoRoot.replace(/[^a-z0-9]+/gi, '_')}.lock`);
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 300_000) await rmdir(lock).catch(() => {});
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for too long`);
      await delay(200);
    }
  }
  try {
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-b']);
    if (result.code !== 0) throw new Error(`tsc -b failed (${result.code}):\n${result.stdout}${result.stderr}`);
  } finally {
    await rmdir(lock).catch(() => {});
  }
}

/** Runs kubectl and throws with its stderr when it fails. */
export async function kubectlOk(cluster: Cluster, args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** `kubectl get -o json`, or undefined when the object does not exist. */
export async function getJson<T = Record<string, unknown>>(cluster: Cluster, args: string[]): Promise<T | undefined> {
  const result = await cluster.kubectl(['get', ...args, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound|not found/.test(result.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** Installs the generated CRDs and waits until the API serves them. */
export async function installCrds(cluster: Cluster): Promise<void> {
  await kubectlOk(cluster, ['apply', '--server-side', '-f', crdDir]);
  await kubectlOk(cluster, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/gatewayconfigs.switchboard.dev', 'crd/routingmodels.switchboard.dev']);
  // Discovery lags the Established condition by a moment.
  await waitFor('the GatewayConfig API in discovery', async () => (await cluster.kubectl(['get', 'gatewayconfigs', '-A'])).code === 0, 30_000, 250);
}

/** A minimal valid GatewayConfig; `model` varies the spec (and so the rendered config hash). */
export function gatewayConfig(name: string, namespace: string, model = 'gpt-4o-mini'): Record<string, unknown> {
  return {
    apiVersion: 'switchboard.dev/v1alpha1',
    kind: 'GatewayConfig',
    metadata: { name, namespace },
    spec: {
      models: [{ name: 'fast', deployments: [{ name: 'd1', provider: 'openai', model, baseUrl: 'http://mock.llm:9000/v1' }] }],
    },
  };
}

export async function applyGatewayConfig(cluster: Cluster, name: string, namespace: string, model?: string): Promise<void> {
  await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(gatewayConfig(name, namespace, model)));
}

export interface ConfigMapJson {
  metadata: {
    name: string;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export const CONFIG_HASH = 'switchboard.dev/config-hash';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface GatewayConfigJson {
  metadata: { name: string; uid: string; generation: number };
  status?: { conditions?: Condition[]; observedGeneration?: number; [field: string]: unknown };
}

export function condition(obj: { status?: { conditions?: Condition[] } } | undefined, type: string): Condition | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

export interface LeaseJson {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
}

export async function leaseHolder(cluster: Cluster, namespace: string, name = 'switchboard-operator'): Promise<string | undefined> {
  const lease = await getJson<LeaseJson>(cluster, ['lease', name, '-n', namespace]);
  return lease?.spec?.holderIdentity || undefined;
}

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

export interface OperatorProcess {
  readonly identity: string;
  readonly pid: number;
  /** The /healthz, /readyz and /metrics port (known once the operator logged that it started). */
  readonly port: number;
  readonly child: ChildProcess;
  /** Every JSON log line so far (stdout), parsed. */
  logs(): LogLine[];
  /** Raw stdout lines that were not JSON, and stderr. */
  stderr(): string;
  waitForLog(what: string, predicate: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** Resolves with how the process ended. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  get(pathname: string): Promise<{ status: number; body: string }>;
  /** SIGTERM (then SIGKILL after timeoutMs); resolves with how it ended. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<ChildProcess>();
/** Kills (by pid) every operator this process started and left running; for afterAll. */
export function killAllOperators(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

export interface StartOperatorOptions {
  kubeconfig: string;
  identity: string;
  /** Extra flags, e.g. ['--namespace', 'ns']. --data-plane-image, --identity, --kubeconfig and
   *  --metrics-port (0) are set unless given here. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait at most this long for "operator started". Default 20 s. */
  startTimeoutMs?: number;
}

export async function startOperator(options: StartOperatorOptions): Promise<OperatorProcess> {
  const args = [...(options.args ?? [])];
  const has = (flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  if (!has('--kubeconfig')) args.push('--kubeconfig', options.kubeconfig);
  if (!has('--identity')) args.push('--identity', options.identity);
  if (!has('--data-plane-image')) args.push('--data-plane-image', DATA_PLANE_IMAGE);
  if (!has('--metrics-port')) args.push('--metrics-port', '0');
  if (!has('--metrics-bind-address')) args.push('--metrics-bind-address', '127.0.0.1');
  const child = spawn(process.execPath, [operatorBin, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  const lines: LogLine[] = [];
  let errText = '';
  const watchers = new Set<() => void>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const raw = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!raw.trim()) continue;
      try {
        lines.push(JSON.parse(raw) as LogLine);
      } catch {
        errText += `${raw}\n`;
      }
    }
    for (const w of watchers) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    errText += text;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of watchers) w();
    });
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  const waitForLog = (what: string, predicate: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = lines.find(predicate);
        if (hit) {
          finish();
          resolve(hit);
          return true;
        }
        if (!running()) {
          finish();
          reject(new Error(`operator ${options.identity} exited (${child.exitCode ?? child.signalCode}) before logging ${what}; stderr: ${errText.slice(-2000)}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`operator ${options.identity} did not log ${what} within ${timeoutMs} ms; stderr: ${errText.slice(-2000)}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        watchers.delete(watch);
      };
      const watch = (): void => void check();
      if (!check()) watchers.add(watch);
    });

  let startedLine: LogLine;
  try {
    startedLine = await waitForLog('"operator started"', (l) => l.msg === 'operator started', options.startTimeoutMs ?? 20_000);
  } catch (err) {
    if (running()) child.kill('SIGKILL');
    throw err;
  }
  const port = Number(startedLine.port);

  const op: OperatorProcess = {
    identity: options.identity,
    pid: child.pid!,
    port,
    child,
    logs: () => lines,
    stderr: () => errText,
    waitForLog,
    exit,
    running,
    async get(pathname) {
      const res = await fetch(`http://127.0.0.1:${port}${pathname}`);
      return { status: res.status, body: await res.text() };
    },
    async stop(timeoutMs = 20_000) {
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (running()) child.kill('SIGKILL');
        }, timeoutMs);
        const result = await exit;
        clearTimeout(timer);
        started.delete(child);
        return result;
      }
      started.delete(child);
      return exit;
    },
  };
  return op;
}

/** Sum of the samples of `name` in Prometheus text whose labels include all of `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const sampleLabels = new Map<string, string>();
    for (const lm of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) sampleLabels.set(lm[1]!, lm[2]!);
    if (Object.entries(labels).every(([k, v]) => sampleLabels.get(k) === v)) sum += Number(m[4]);
  }
  return sum;
}
