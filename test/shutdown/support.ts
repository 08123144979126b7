// Real processes for the shutdown suites: the paced mock and a gateway started from the CLI, plus
// a raw SSE reader that records every event (comments included) and when the stream ended.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, type RunningCli } from '../support/cli.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig } from '../support/stack.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';

export interface MockProcess {
  cli: RunningCli;
  url: string;
}

/** `switchboard mock` with the given pacing flags, requiring UPSTREAM_KEY. */
export async function startMockProcess(flags: string[]): Promise<MockProcess> {
  const cli = startCli(['mock', '--port', '0', '--api-key', UPSTREAM_KEY, ...flags]);
  const [, url] = await cli.waitForOutput(/mock listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
  return { cli, url: url! };
}

export interface GatewayProcess {
  cli: RunningCli;
  port: number;
  url: string;
  adminUrl: string;
  /** Resolves with the exit code and the time of exit. */
  exited: Promise<{ code: number | null; at: number }>;
}

export async function startGatewayProcess(mock: MockProcess, shutdown: Record<string, string>, dir?: string): Promise<GatewayProcess> {
  const home = dir ?? (await mkdtemp(join(tmpdir(), 'switchboard-shutdown-')));
  const path = join(home, `gateway-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const fakeMock = { url: mock.url } as MockServer;
  const config = gatewayConfig(
    [
      { name: 'chat', deployments: [deployment(fakeMock, 'up-openai', 'openai')] },
      { name: 'claude', deployments: [deployment(fakeMock, 'up-anthropic', 'anthropic')] },
    ],
    { shutdown, retries: { maxAttempts: 1, backoff: '10ms', maxRetryAfter: '1s' } },
  );
  await writeFile(path, JSON.stringify(config));
  const cli = startCli(['gateway', '--config', path, '--port', '0', '--admin-port', '0'], {
    UPSTREAM_API_KEY: UPSTREAM_KEY,
    SWITCHBOARD_MASTER_KEY: MASTER_KEY,
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => cli.child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const [, port, adminPort] = await cli.waitForOutput(/"port":(\d+),"adminPort":(\d+)/);
  if (dir === undefined) void exited.then(() => rm(home, { recursive: true, force: true }));
  return { cli, port: Number(port), url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, exited };
}

export interface StreamResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Raw events (the text between blank lines), comments included. */
  events: string[];
  endedAt: number;
  error?: string;
}

/** Streams one chat completion (OpenAI) or message (Anthropic) on a fresh connection. */
export function streamOnce(port: number, wire: 'openai' | 'anthropic' = 'openai', maxTokens = 1000): Promise<StreamResult> {
  const body =
    wire === 'openai'
      ? { model: 'chat', stream: true, max_tokens: maxTokens, messages: [{ role: 'user', content: 'tell me a story' }] }
      : { model: 'claude', stream: true, max_tokens: maxTokens, messages: [{ role: 'user', content: 'tell me a story' }] };
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: wire === 'openai' ? '/v1/chat/completions' : '/v1/messages',
        agent: false,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        const finish = (error?: string): void =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, events: text.split('\n\n').filter((e) => e.length > 0), endedAt: Date.now(), error });
        res.on('end', () => finish());
        res.on('error', (e) => finish(e.message));
      },
    );
    req.on('error', (e) => resolve({ status: 0, headers: {}, events: [], endedAt: Date.now(), error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(JSON.stringify(body));
  });
}

/** Opens a fresh TCP connection: 'connected' or the error code (ECONNREFUSED once the listener is closed). */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** The data lines of an event, or undefined for a comment-only event. */
export function dataOf(event: string): string | undefined {
  const lines = event.split('\n').filter((l) => l.startsWith('data: '));
  return lines.length === 0 ? undefined : lines.map((l) => l.slice(6)).join('\n');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value, or throws after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function readyStatus(adminUrl: string): Promise<number> {
  return (await fetch(`${adminUrl}/readyz`)).status;
}
