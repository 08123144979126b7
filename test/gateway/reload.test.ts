// Hot reload of the file config source on a running gateway: valid edits apply to new requests,
// invalid ones are rejected while the last good config keeps serving, and a rotated credential
// file applies without a restart. Every wait polls the admin endpoints with a deadline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import type { RuntimeConfigInput } from '@switchboard/crds';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import {
  credentialFingerprint,
  deployment,
  gatewayConfig,
  metricValue,
  mockStats,
  readiness,
  startTestGateway,
  startTestMock,
  waitFor,
  writeFileAtomic,
  type TestGateway,
} from '../support/stack.js';

let mock: MockServer;
let gw: TestGateway;
let keyFile: string;

const hi = [{ role: 'user' as const, content: 'hi' }];

function config(deploymentName: string, extra: Record<string, unknown> = {}): RuntimeConfigInput {
  return gatewayConfig([
    { name: 'live', deployments: [deployment(mock, deploymentName, 'openai', { credentials: { file: keyFile }, ...extra })] },
  ]);
}

const applied = (): Promise<number> => metricValue(gw.adminUrl, 'switchboard_config_reloads_total', { result: 'applied' });
const rejected = (): Promise<number> => metricValue(gw.adminUrl, 'switchboard_config_reloads_total', { result: 'rejected' });

async function lastCredentialFor(model: string): Promise<string | null | undefined> {
  return (await mockStats(mock)).recent.filter((r) => r.model === model).at(-1)?.credential;
}

beforeAll(async () => {
  // No key required upstream: the test rotates the key and reads which one the mock was sent.
  mock = await startTestMock(null);
  gw = await startTestGateway(undefined, {
    files: { 'upstream.key': 'sk-key-one\n' },
    render: (dir) => {
      keyFile = join(dir, 'upstream.key');
      return config('live-first');
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

describe('hot reload of the config file', () => {
  it('applies a valid edit to new requests without a restart', async () => {
    const before = await gw.openai().chat.completions.create({ model: 'live', messages: hi }).asResponse();
    expect(before.headers.get('x-switchboard-deployment')).toBe('live-first');
    const oldHash = before.headers.get('x-switchboard-config-hash')!;
    expect(oldHash).toMatch(/^[0-9a-f]{16}$/);
    const appliedBefore = await applied();

    await gw.writeConfig(config('live-second'));
    const newHash = await waitFor('the edited config to apply', async () => {
      const { configHash } = await readiness(gw.adminUrl);
      return configHash !== oldHash ? configHash : undefined;
    });

    const after = await gw.openai().chat.completions.create({ model: 'live', messages: hi }).asResponse();
    expect(after.headers.get('x-switchboard-deployment')).toBe('live-second');
    expect(after.headers.get('x-switchboard-config-hash')).toBe(newHash);
    expect(await applied()).toBe(appliedBefore + 1);
    expect((await readiness(gw.adminUrl)).lastConfigError).toBeNull();
  });

  it('rejects an invalid edit, names the field in /readyz, and keeps serving the last good config', async () => {
    const good = await readiness(gw.adminUrl);
    const rejectedBefore = await rejected();

    await gw.writeConfig(config('live-broken', { provider: 'openia' }));
    const error = await waitFor('the invalid edit to be rejected', async () => (await readiness(gw.adminUrl)).lastConfigError ?? undefined);
    expect(error).toContain(gw.configPath);
    expect(error).toContain('models[0].deployments[0].provider: got "openia"; expected one of "openai"');
    expect(await rejected()).toBeGreaterThan(rejectedBefore);

    const status = await readiness(gw.adminUrl);
    expect(status.ready).toBe(true);
    expect(status.configHash).toBe(good.configHash);
    const still = await gw.openai().chat.completions.create({ model: 'live', messages: hi }).asResponse();
    expect(still.status).toBe(200);
    expect(still.headers.get('x-switchboard-deployment')).toBe('live-second');
    expect(still.headers.get('x-switchboard-config-hash')).toBe(good.configHash);
  });

  it('rejects a file that is not YAML at all, then clears the error once the file is fixed', async () => {
    await gw.writeConfig('models: [ {name: live\n');
    const error = await waitFor('the unparsable edit to be rejected', async () => {
      const e = (await readiness(gw.adminUrl)).lastConfigError;
      return e?.includes('not valid YAML or JSON') ? e : undefined;
    });
    expect(error).toContain(gw.configPath);

    await gw.writeConfig(config('live-second'));
    await waitFor('the error to clear', async () => ((await readiness(gw.adminUrl)).lastConfigError === null ? true : undefined));
    const res = await gw.openai().chat.completions.create({ model: 'live', messages: hi }).asResponse();
    expect(res.headers.get('x-switchboard-deployment')).toBe('live-second');
  });

  it('applies a key rotated in a credentials file to new requests', async () => {
    await gw.openai().chat.completions.create({ model: 'live', messages: hi });
    expect(await lastCredentialFor('live-second-model')).toBe(credentialFingerprint('sk-key-one'));
    const appliedBefore = await applied();

    await writeFileAtomic(keyFile, 'sk-key-two\n');
    await waitFor('the rotated key to apply', async () => ((await applied()) > appliedBefore ? true : undefined));

    const res = await gw.openai().chat.completions.create({ model: 'live', messages: hi }).asResponse();
    expect(res.status).toBe(200);
    expect(await lastCredentialFor('live-second-model')).toBe(credentialFingerprint('sk-key-two'));
    // The key is not in the config, so the config hash stays the same.
    expect(res.headers.get('x-switchboard-config-hash')).toBe((await readiness(gw.adminUrl)).configHash);
  });
});
