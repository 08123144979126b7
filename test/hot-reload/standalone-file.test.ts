// Hot reload end to end in standalone mode: a real gateway process (`switchboard gateway --config
// FILE`) and the real mock upstream. Under open-loop load (240 rps, a quarter streamed) the test
// replaces the config file 20 times the way editors and volume updates do (write a temporary file,
// rename it over the config) and checks that every request succeeds on a deployment the config it
// reports allows, that each edit serves within 1 s (p99), and that invalid edits (broken JSON, a
// schema violation, a credential that does not resolve) are rejected while the last good config
// keeps serving.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, RuntimeConfig, type RuntimeConfigInput } from '@switchboard/crds';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { buildWorkspaces, startCli, type RunningCli } from '../support/cli.js';
import { metricValue, writeFileAtomic } from '../support/stack.js';
import { ConfigLedger, describeLoad, modelVariant, OpenLoopLoad, percentile, readyz, waitServing } from './load.js';

const UPSTREAM_KEY = 'sk-upstream-standalone';
const MASTER_KEY = 'sk-master-standalone';
const EDITS = 20;
const RPS = 240;
const TIMEOUT = 120_000;

let mock: MockServer;
let dir: string;
let configPath: string;
let cli: RunningCli;
let gateway: { name: string; url: string; adminUrl: string };
const ledger = new ConfigLedger();
const load = new OpenLoopLoad({ rps: RPS, streamShare: 0.25, maxDurationMs: 90_000, apiKey: MASTER_KEY, model: 'live' });

/** Edit `i`: deployment names, upstream models, weights, strategy and models all vary. */
function edit(i: number, credentialEnv = 'UPSTREAM_API_KEY'): { config: RuntimeConfigInput; hash: string; allowed: Map<string, string> } {
  const d = (suffix: string, weight: number): RuntimeConfigInput['models'][number]['deployments'][number] => ({
    name: `e${i}-${suffix}`,
    provider: 'openai',
    model: `e${i}-${suffix}-upstream`,
    baseUrl: `${mock.url}/v1`,
    credentials: { env: credentialEnv },
    weight,
  });
  const variant = i % 4;
  const models = modelVariant(variant, d);
  const config: RuntimeConfigInput = {
    models,
    routing: { strategy: (['weighted', 'least-inflight', 'lowest-latency', 'weighted'] as const)[variant] },
    retries: { maxAttempts: 2, backoff: '10ms', maxRetryAfter: '1s' },
    auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' } },
  };
  const live = models.filter((m) => m.name === 'live' || (variant === 3 && m.name === 'backup'));
  const allowed = new Map(live.flatMap((m) => m.deployments.map((x) => [x.name, x.model] as const)));
  return { config, hash: configHash(RuntimeConfig.parse(config)), allowed };
}

const write = (config: RuntimeConfigInput | string): Promise<void> => writeFileAtomic(configPath, typeof config === 'string' ? config : `${JSON.stringify(config, null, 2)}\n`);
const reloads = (result: string): Promise<number> => metricValue(gateway.adminUrl, 'switchboard_config_reloads_total', { result });

beforeAll(async () => {
  await buildWorkspaces(); // the CLI runs from dist/
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 5, tokensPerSecond: 1000 });
  dir = await mkdtemp(join(tmpdir(), 'switchboard-hot-reload-'));
  configPath = join(dir, 'gateway.json');
  const first = edit(0);
  ledger.record(first.hash, first.allowed);
  await write(first.config);
  cli = startCli(['gateway', '--config', configPath, '--port', '0', '--admin-port', '0'], { UPSTREAM_API_KEY: UPSTREAM_KEY, SWITCHBOARD_MASTER_KEY: MASTER_KEY });
  const m = await cli.waitForOutput(/"port":(\d+),"adminPort":(\d+),"configHash":"([0-9a-f]{16})"/, 30_000);
  expect(m[3]).toBe(first.hash);
  gateway = { name: 'standalone', url: `http://127.0.0.1:${m[1]}`, adminUrl: `http://127.0.0.1:${m[2]}` };
  await waitServing(ledger, [gateway], first.hash, 5_000);
  load.setTargets([gateway]);
  load.start();
}, TIMEOUT);

afterAll(async () => {
  const errors: unknown[] = [];
  const steps: Array<() => unknown> = [() => load.stop(), () => cli?.stop(), () => mock?.close(), () => (dir ? rm(dir, { recursive: true, force: true }) : undefined)];
  for (const step of steps) {
    await Promise.resolve().then(step).catch((e: unknown) => errors.push(e));
  }
  if (errors.length) throw errors[0];
}, TIMEOUT);

describe('standalone file source under load', () => {
  let edits = 0;

  it(`applies ${EDITS} atomic file edits: every request succeeds on an allowed deployment, p99 edit -> serving <= 1 s`, async () => {
    const appliedBefore = await reloads('applied');
    const toServing: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      const { config, hash, allowed } = edit(i);
      ledger.record(hash, allowed);
      const started = performance.now();
      await write(config);
      toServing.push((await waitServing(ledger, [gateway], hash, 5_000)) - started);
      edits = i;
      await new Promise((r) => setTimeout(r, 400)); // traffic on this config before the next edit
    }
    console.log(
      `file rename -> serving, ${EDITS} edits: p50 ${percentile(toServing, 50).toFixed(0)} ms, p99 ${percentile(toServing, 99).toFixed(0)} ms, ` +
        `max ${Math.max(...toServing).toFixed(0)} ms\n${describeLoad(load)}`,
    );
    expect(percentile(toServing, 99)).toBeLessThanOrEqual(1000);
    expect(await reloads('applied')).toBe(appliedBefore + EDITS);
    expect(ledger.check(load.outcomes).slice(0, 20)).toEqual([]);
  }, TIMEOUT);

  it.each([
    ['broken JSON', () => `${JSON.stringify(edit(edits + 1).config).slice(0, -20)}\n`, /gateway\.json/],
    ['a schema violation (negative weight)', () => JSON.stringify({ ...edit(edits + 1).config, models: [{ name: 'live', deployments: [{ ...edit(edits + 1).config.models[0]!.deployments[0]!, weight: -1 }] }] }), /weight/],
    ['a credential that does not resolve (unset environment variable)', () => edit(edits + 1, 'NOT_SET_ANYWHERE').config, /NOT_SET_ANYWHERE/],
  ] as const)('rejects an edit with %s and keeps serving the last good config', async (_what, invalid, mentions) => {
    const serving = (await readyz(gateway.adminUrl)).configHash;
    const rejectedBefore = await reloads('rejected');
    await write(invalid());
    const since = performance.now();
    const r = await (async () => {
      const deadline = performance.now() + 5_000;
      for (;;) {
        const v = await readyz(gateway.adminUrl);
        if (v.lastConfigError) return v;
        if (performance.now() > deadline) throw new Error(`the gateway did not report the invalid edit: ${JSON.stringify(v)}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    expect(r).toMatchObject({ ready: true, configHash: serving });
    expect(r.lastConfigError).toMatch(mentions);
    expect(await reloads('rejected')).toBeGreaterThan(rejectedBefore);
    await new Promise((res) => setTimeout(res, 1000));
    expect((await readyz(gateway.adminUrl)).configHash).toBe(serving);
    const during = load.outcomes.filter((o) => o.start >= since);
    expect(during.length).toBeGreaterThan(150);
    expect(during.filter((o) => o.error !== undefined || o.hash !== serving).slice(0, 5)).toEqual([]);

    // The next valid edit applies and clears the error.
    const next = edit(++edits);
    ledger.record(next.hash, next.allowed);
    await write(next.config);
    await waitServing(ledger, [gateway], next.hash, 5_000);
    expect((await readyz(gateway.adminUrl)).lastConfigError).toBeNull();
  }, TIMEOUT);

  it(`sustained >= 200 rps with no failed request and every answer on an allowed deployment`, async () => {
    await load.stop();
    console.log(describeLoad(load));
    expect(load.missed).toBe(0);
    expect(load.outcomes.length / load.durationSeconds()).toBeGreaterThanOrEqual(200);
    expect(load.outcomes.filter((o) => o.streamed).length).toBeGreaterThan(load.outcomes.length * 0.2);
    expect(ledger.check(load.outcomes).slice(0, 20)).toEqual([]);
    expect(new Set(load.outcomes.map((o) => o.hash)).size).toBeGreaterThanOrEqual(EDITS + 4);
  }, TIMEOUT);
});
