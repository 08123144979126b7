// The real `switchboard` CLI as a user runs it: bad configs fail loudly and precisely, the mock
// prints where it listens, and the gateway serves and stops cleanly on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { buildWorkspaces, runCli, startCli } from '../support/cli.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig, startTestMock } from '../support/stack.js';

let dir: string;
let mock: MockServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-cli-'));
  mock = await startTestMock();
  // The CLI runs the compiled code: build it, so this suite never tests a stale dist/.
  await buildWorkspaces();
}, 180_000);

afterAll(async () => {
  await mock?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('switchboard gateway', () => {
  it('exits non-zero naming the path, the field, the value and the expectation for a bad config', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      [
        'models:',
        '  - name: chat',
        '    deployments:',
        '      - name: d1',
        '        provider: openia',
        '        model: m',
        '        baseUrl: http://127.0.0.1:1/v1',
        'timeouts:',
        '  total: 5 sec',
        '',
      ].join('\n'),
    );
    const result = await runCli(['gateway', '--config', path, '--port', '0', '--admin-port', '0']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${path}: models[0].deployments[0].provider: got "openia"; expected one of "openai"`);
    expect(result.stderr).toContain('timeouts.total: got "5 sec"; expected a duration');
  });

  it('exits non-zero naming the path when the config file does not exist', async () => {
    const path = join(dir, 'missing.yaml');
    const result = await runCli(['gateway', '--config', path]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`${path}: cannot read: ENOENT`);
  });

  it('exits 2 with the flag named when --config is missing', async () => {
    const result = await runCli(['gateway']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--config: required');
  });

  it('serves requests from a config file and stops cleanly on SIGTERM', async () => {
    const path = join(dir, 'good.json');
    // No drain delay: this test checks a clean stop, test/shutdown checks the delay.
    const config = gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'cli-up', 'openai')] }], { shutdown: { drainDelay: '0s' } });
    await writeFile(path, JSON.stringify(config));
    const gateway = startCli(['gateway', '--config', path, '--port', '0', '--admin-port', '0'], {
      UPSTREAM_API_KEY: UPSTREAM_KEY,
      SWITCHBOARD_MASTER_KEY: MASTER_KEY,
    });
    try {
      const [, port, adminPort] = await gateway.waitForOutput(/"port":(\d+),"adminPort":(\d+)/);
      const ready = (await (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).json()) as { ready: boolean };
      expect(ready.ready).toBe(true);
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
      const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      expect(response.headers.get('x-switchboard-deployment')).toBe('cli-up');
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});

describe('switchboard mock', () => {
  it('prints its URL with --port 0 and answers there until SIGTERM', async () => {
    const child = startCli(['mock', '--port', '0']);
    try {
      const [, url] = await child.waitForOutput(/mock listening on (http:\/\/127\.0\.0\.1:\d+)\n/);
      const health = await fetch(`${url}/mock/health`);
      expect(await health.json()).toEqual({ status: 'ok' });
    } finally {
      expect(await child.stop()).toBe(0);
    }
  });
});
