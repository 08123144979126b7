// The access log of a real gateway process. Lines gather in memory and are written in batches
// (gateway.ts: 4 KB or 100 ms), so a quiet gateway must still write a lone request's line within
// the flush interval, and SIGTERM must not lose the lines still gathered.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildWorkspaces } from '../support/cli.js';
import { MASTER_KEY } from '../support/stack.js';
import { startGatewayProcess, startMockProcess, type GatewayProcess, type MockProcess } from './support.js';

let mock: MockProcess;

beforeAll(async () => {
  await buildWorkspaces();
  mock = await startMockProcess([]);
}, 180_000);

afterAll(async () => {
  await mock?.cli.stop();
});

/** One non-streamed chat completion; returns the request id the gateway answered with. */
async function chat(gateway: GatewayProcess): Promise<string> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get('x-request-id')!;
}

/** Request ids of the access-log lines printed so far. */
function loggedRequests(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.includes('"msg":"request"'))
    .map((line) => (JSON.parse(line) as { requestId: string }).requestId);
}

describe('access log', () => {
  it("writes a lone request's line within the flush interval", async () => {
    const gateway = await startGatewayProcess(mock, { drainDelay: '0s' });
    try {
      const id = await chat(gateway);
      const answered = Date.now();
      await gateway.cli.waitForOutput(new RegExp(`"requestId":"${id}"`), 2000);
      // 100 ms flush interval; the rest is slack for a loaded CI machine.
      expect(Date.now() - answered).toBeLessThan(1000);
    } finally {
      await gateway.cli.stop();
    }
  });

  it('writes every gathered line before it exits on SIGTERM', async () => {
    const gateway = await startGatewayProcess(mock, { drainDelay: '0s' });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await chat(gateway));
    gateway.cli.child.kill('SIGTERM');
    expect((await gateway.exited).code).toBe(0);
    // 'exit' can come before the last of the piped stdout.
    const stdout = gateway.cli.child.stdout!;
    if (!stdout.readableEnded) await new Promise((resolve) => stdout.once('end', resolve));
    expect(new Set(loggedRequests(gateway.cli.stdout()))).toEqual(new Set(ids));
  });
});
