// Starts the real mock provider and a real gateway on loopback for end-to-end tests: renders a
// runtime config whose deployments point at the mock, writes it to a temp dir, and hands back
// clients and probes (admin metrics, readiness, mock stats) with deadlines instead of sleeps.
import { createHash } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { pino } from 'pino';
import type { ProviderKind, RuntimeConfigInput } from '@switchboard/crds';
import { startGateway, type RunningGateway } from '../../dataplane/src/gateway.js';
import { startMock, type MockServer, type MockStats } from '../../dataplane/src/mock/server.js';

export type ModelInput = RuntimeConfigInput['models'][number];
export type DeploymentInput = ModelInput['deployments'][number];

/** The key the mock requires from every upstream call. */
export const UPSTREAM_KEY = 'sk-upstream-test';
/** The gateway's master key (may call every model). */
export const MASTER_KEY = 'sk-master-test';
export const PROVIDERS: readonly ProviderKind[] = ['openai', 'openai-compatible', 'azure', 'anthropic'];

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What the mock records for a key: the first 8 hex chars of its sha256. */
export function credentialFingerprint(key: string): string {
  return sha256Hex(key).slice(0, 8);
}

/** Starts the mock requiring UPSTREAM_KEY, or any key (none) with `apiKey: null`. */
export function startTestMock(apiKey: string | null = UPSTREAM_KEY): Promise<MockServer> {
  return startMock({ port: 0, apiKey: apiKey ?? undefined });
}

/** The base URL a deployment of `provider` uses to reach the mock (OpenAI wire has /v1, others none). */
export function baseUrlFor(provider: ProviderKind, mock: MockServer): string {
  return provider === 'openai' || provider === 'openai-compatible' ? `${mock.url}/v1` : mock.url;
}

/**
 * A deployment on the mock. The upstream model defaults to `<name>-model` so the mock's
 * per-model counts tell deployments apart.
 */
export function deployment(mock: MockServer, name: string, provider: ProviderKind, extra: Partial<DeploymentInput> = {}): DeploymentInput {
  return {
    name,
    provider,
    model: `${name}-model`,
    baseUrl: baseUrlFor(provider, mock),
    credentials: { env: 'UPSTREAM_API_KEY' },
    ...(provider === 'azure' ? { apiVersion: '2024-10-21' } : {}),
    ...extra,
  };
}

/** A config with the master key and fast retries; `extra` overrides any top-level section. */
export function gatewayConfig(models: ModelInput[], extra: Omit<Partial<RuntimeConfigInput>, 'models'> = {}): RuntimeConfigInput {
  return {
    models,
    retries: { maxAttempts: 2, backoff: '10ms', maxRetryAfter: '2s' },
    auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' } },
    ...extra,
  };
}

/** Replaces a file atomically (write + rename), as editors and Kubernetes volume updates do. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export interface TestGateway {
  url: string;
  adminUrl: string;
  /** Directory holding the config (and any credential files). */
  dir: string;
  configPath: string;
  running: RunningGateway;
  /** Rewrites the config file; the gateway picks it up through its file watch. */
  writeConfig(config: RuntimeConfigInput | string): Promise<void>;
  openai(apiKey?: string): OpenAI;
  anthropic(apiKey?: string): Anthropic;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  env?: NodeJS.ProcessEnv;
  /** Files written next to the config before start (name -> content). */
  files?: Record<string, string>;
  /** Lets a config refer to files in the temp dir: called with the dir before rendering. */
  render?: (dir: string) => RuntimeConfigInput;
}

function configText(config: RuntimeConfigInput | string): string {
  // JSON is YAML: one format for both loaders and no YAML dependency in tests.
  return typeof config === 'string' ? config : `${JSON.stringify(config, null, 2)}\n`;
}

export async function startTestGateway(config: RuntimeConfigInput | undefined, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-gw-'));
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content);
  const rendered = options.render ? options.render(dir) : config;
  if (rendered === undefined) throw new Error('startTestGateway: pass a config or a render function');
  const configPath = join(dir, 'gateway.json');
  await writeFile(configPath, configText(rendered));
  const running = await startGateway({
    configPath,
    port: 0,
    adminPort: 0,
    env: { UPSTREAM_API_KEY: UPSTREAM_KEY, SWITCHBOARD_MASTER_KEY: MASTER_KEY, ...options.env },
    log: pino({ level: 'silent' }),
  });
  return {
    url: running.url,
    adminUrl: running.adminUrl,
    dir,
    configPath,
    running,
    writeConfig: (next) => writeFileAtomic(configPath, configText(next)),
    openai: (apiKey = MASTER_KEY) => new OpenAI({ baseURL: `${running.url}/v1`, apiKey, maxRetries: 0 }),
    anthropic: (apiKey = MASTER_KEY) => new Anthropic({ baseURL: running.url, apiKey, maxRetries: 0 }),
    async close() {
      await running.close(1000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The value of one Prometheus sample on the admin /metrics, 0 when absent. */
export async function metricValue(adminUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const brace = line.indexOf('{');
    const labelText = brace >= 0 ? line.slice(brace + 1, line.lastIndexOf('}')) : '';
    const present = labelText === '' ? [] : labelText.split(',');
    if (wanted.every((w) => present.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

export interface Readiness {
  ready: boolean;
  configHash: string;
  lastConfigError: string | null;
}

export async function readiness(adminUrl: string): Promise<Readiness> {
  return (await (await fetch(`${adminUrl}/readyz`)).json()) as Readiness;
}

/** The mock's traffic record, read over HTTP as any client would. */
export async function mockStats(mock: MockServer): Promise<MockStats> {
  return (await (await fetch(`${mock.url}/mock/stats`)).json()) as MockStats;
}

/** Requests the mock saw for one upstream model name. */
export async function upstreamCount(mock: MockServer, model: string): Promise<number> {
  return (await mockStats(mock)).byModel[model] ?? 0;
}
