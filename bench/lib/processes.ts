// Servers under test, each its own child process: the real `switchboard` CLI (gateway, mock)
// and the reference forwarder. Ports are picked free up front; readiness is polled over HTTP.
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job, JobResult } from './jobs.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cli = `${repoRoot}dataplane/bin/switchboard.js`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills what this run started (by pid, one by one) if the run dies or is interrupted. */
function stopAllNow(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.once('exit', stopAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAllNow();
    process.exit(130);
  });
}

async function waitHttp(url: string, child: ChildProcess, stderr: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before ready: ${stderr()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms (${url}): ${stderr()}`);
    await delay(50);
  }
}

interface StartOptions {
  name: string;
  args: string[];
  /** Where stdout goes: a file path (the gateway's access log) or ignored. */
  stdoutFile?: string;
  readyUrl: (port: number) => string;
  port: number;
  nodeFlags?: string[];
}

async function start(options: StartOptions): Promise<ServerProcess> {
  const out = options.stdoutFile ? openSync(options.stdoutFile, 'w') : 'ignore';
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...options.args], {
    cwd: repoRoot,
    stdio: ['ignore', out, 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (typeof out === 'number') closeSync(out);
  running.add(child);
  let errText = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    if (errText.length < 4000) errText += text;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitHttp(options.readyUrl(options.port), child, () => errText);
  } catch (error) {
    child.kill('SIGKILL');
    running.delete(child);
    throw new Error(`${options.name}: ${(error as Error).message}`, { cause: error });
  }
  return {
    name: options.name,
    pid: child.pid!,
    url: `http://127.0.0.1:${options.port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
}

export interface MockFlags {
  ttftMs: number;
  tokensPerSecond: number;
  responseTokens: number;
  /** Requests the mock serves at once (beyond: 429); absent: no limit. */
  maxConcurrency?: number;
  /** Stamp each paced write with the monotonic clock (--stamp-events). */
  stampEvents?: boolean;
}

export async function startMock(name: string, flags: MockFlags): Promise<ServerProcess> {
  const port = await freePort();
  const args = [cli, 'mock', '--port', String(port), '--ttft-ms', String(flags.ttftMs), '--tokens-per-second', String(flags.tokensPerSecond), '--response-tokens', String(flags.responseTokens)];
  if (flags.maxConcurrency !== undefined) args.push('--max-concurrency', String(flags.maxConcurrency));
  if (flags.stampEvents) args.push('--stamp-events');
  return start({ name, args, port, readyUrl: (p) => `http://127.0.0.1:${p}/mock/health` });
}

export interface GatewayProcess extends ServerProcess {
  adminUrl: string;
}

/** Node flags of the shipped gateway: Dockerfile.dataplane's entrypoint and the bin's shebang (decision 0019). */
const GATEWAY_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

export async function startGateway(name: string, configPath: string, logPath: string, extraNodeFlags: string[] = []): Promise<GatewayProcess> {
  const port = await freePort();
  const adminPort = await freePort();
  const args = [cli, 'gateway', '--config', configPath, '--port', String(port), '--admin-port', String(adminPort)];
  const server = await start({ name, args, port, stdoutFile: logPath, nodeFlags: [...GATEWAY_NODE_FLAGS, ...extraNodeFlags], readyUrl: () => `http://127.0.0.1:${adminPort}/readyz` });
  return { ...server, adminUrl: `http://127.0.0.1:${adminPort}` };
}

export async function startReference(name: string, upstream: string, nodeFlags: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const args = [`${repoRoot}bench/reference-forwarder.ts`, '--port', String(port), '--upstream', upstream];
  return start({ name, args, port, nodeFlags, readyUrl: (p) => `http://127.0.0.1:${p}/healthz` });
}

/** bench/socket-relay.ts in front of the mock at `upstream` (ready once the mock answers through it). */
export async function startSocketRelay(name: string, upstream: string): Promise<ServerProcess> {
  const port = await freePort();
  const args = [`${repoRoot}bench/socket-relay.ts`, '--port', String(port), '--upstream', upstream];
  return start({ name, args, port, readyUrl: (p) => `http://127.0.0.1:${p}/mock/health` });
}

/**
 * utime + stime in CPU seconds (Linux USER_HZ = 100) of a process, or of one of its threads with
 * `thread` = `/task/TID`.
 */
export function cpuSeconds(pid: number, thread = ''): number {
  const stat = readFileSync(`/proc/${pid}${thread}/stat`, 'utf8');
  // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface Memory {
  rssMb: number;
  hwmMb: number;
  /** The private part of VmRSS (VmRSS also counts the node binary's shared text pages). */
  anonMb: number;
}

/** VmRSS, VmHWM (peak) and RssAnon of a process, from /proc. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024 };
}

/**
 * Connections the kernel dropped machine-wide because a listener's accept queue was full
 * (TcpExt ListenOverflows): each one is a SYN the client resends after 1 s, then 3 s.
 */
export function listenOverflows(): number {
  const [names, values] = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const at = names?.split(' ').indexOf('ListenOverflows') ?? -1;
  return at < 0 ? Number.NaN : Number(values?.split(' ')[at]);
}

/** The load generator process and a promise-per-job call over IPC. */
export interface LoadGenerator {
  /** Its process id (its CPU competes with the servers' on this machine). */
  pid: number;
  run<R extends JobResult>(job: Job): Promise<R>;
  stop(): Promise<void>;
}

/** Forks a load generator (default bench/loadgen.ts; a path relative to the repo root). */
export async function startLoadGenerator(script = 'bench/loadgen.ts'): Promise<LoadGenerator> {
  const child = fork(`${repoRoot}${script}`, [], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  running.add(child);
  const pending = new Map<number, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
  });
  child.on('message', (message: { id: number; result?: JobResult; error?: string }) => {
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(`load generator: ${message.error}`));
    else waiter?.resolve(message.result!);
  });
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`load generator exited with ${code}`));
    pending.clear();
  });
  return {
    pid: child.pid!,
    run<R extends JobResult>(job: Job): Promise<R> {
      const id = nextId++;
      return new Promise<R>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (r: JobResult) => void, reject });
        child.send({ id, job });
      });
    },
    async stop() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
      running.delete(child);
    },
  };
}
