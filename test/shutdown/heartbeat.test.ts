// Heartbeats: a stream whose upstream goes quiet between tokens carries `: keep-alive` comments,
// so idle timeouts in front (load balancers, proxies) do not cut it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildWorkspaces } from '../support/cli.js';
import { dataOf, startGatewayProcess, startMockProcess, streamOnce, type GatewayProcess, type MockProcess } from './support.js';

let mock: MockProcess;
let gateway: GatewayProcess;

beforeAll(async () => {
  await buildWorkspaces();
  // 2 tokens/s: 500 ms of silence between tokens, more than the 150 ms heartbeat.
  mock = await startMockProcess(['--tokens-per-second', '2', '--response-tokens', '4']);
  gateway = await startGatewayProcess(mock, { drainDelay: '0s', maxStreamDuration: '10s', heartbeat: '150ms' });
}, 180_000);

afterAll(async () => {
  await gateway?.cli.stop();
  await mock?.cli.stop();
});

describe('stream heartbeats', () => {
  it.each(['openai', 'anthropic'] as const)('sends keep-alive comments while a slow %s stream is idle, between whole events', async (wire) => {
    const result = await streamOnce(gateway.port, wire);
    expect(result.status).toBe(200);
    const comments = result.events.filter((e) => e === ': keep-alive');
    // ~2 s of stream with 500 ms gaps: at least two heartbeats per gap.
    expect(comments.length).toBeGreaterThanOrEqual(4);
    for (const event of result.events) {
      if (event === ': keep-alive') continue;
      const data = dataOf(event);
      expect(data).toBeDefined();
      if (data !== '[DONE]') expect(() => JSON.parse(data!)).not.toThrow();
    }
    if (wire === 'openai') expect(dataOf(result.events.at(-1)!)).toBe('[DONE]');
    else expect(result.events.at(-1)!.startsWith('event: message_stop')).toBe(true);
  }, 20_000);

  it('sends none on a stream that never goes quiet', async () => {
    const fast = await startMockProcess(['--response-tokens', '4']);
    const quick = await startGatewayProcess(fast, { drainDelay: '0s', maxStreamDuration: '10s', heartbeat: '150ms' });
    try {
      const result = await streamOnce(quick.port);
      expect(result.events.filter((e) => e === ': keep-alive')).toEqual([]);
    } finally {
      await quick.cli.stop();
      await fast.cli.stop();
    }
  }, 20_000);
});
