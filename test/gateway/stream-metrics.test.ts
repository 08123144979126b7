// The admin /metrics KEDA (and the operator's external scaler) read: in-flight streams while a
// stream is open and after it ends, plus the token counters by direction and the admission queue
// depth. The upstream is a tiny SSE server that holds its stream open until the test releases it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gatewayConfig, MASTER_KEY, metricValue, startTestGateway, waitFor, type TestGateway } from '../support/stack.js';

const chunk = (body: object): string => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'held-model', ...body })}\n\n`;

let upstream: Server;
let gw: TestGateway;
const held: ServerResponse[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }] }));
      held.push(res);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  gw = await startTestGateway(
    gatewayConfig([{ name: 'held', deployments: [{ name: 'held-openai', provider: 'openai', model: 'held-model', baseUrl: `http://127.0.0.1:${port}/v1`, credentials: { env: 'UPSTREAM_API_KEY' } }] }]),
  );
});

afterAll(async () => {
  for (const res of held) res.destroy();
  await gw?.close();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()));
});

/** Releases the held upstream stream: the rest of the answer, usage and [DONE]. */
function release(res: ServerResponse): void {
  res.write(chunk({ choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] }));
  res.write(chunk({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }));
  res.end('data: [DONE]\n\n');
}

describe('data-plane load metrics', () => {
  it('shows switchboard_in_flight_streams 1 while a stream is open and 0 after it ends, and counts its tokens by direction', async () => {
    expect(await metricValue(gw.adminUrl, 'switchboard_in_flight_streams')).toBe(0);
    const response = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'held', stream: true, messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    expect(text).toContain('Hel');

    // The stream is open: the gauge says so (and the request is in flight too).
    await waitFor('in-flight streams = 1', async () => ((await metricValue(gw.adminUrl, 'switchboard_in_flight_streams')) === 1 ? true : undefined));
    expect(await metricValue(gw.adminUrl, 'switchboard_in_flight_requests')).toBe(1);

    release(held.shift()!);
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += decoder.decode(next.value, { stream: true });
    expect(text).toContain('data: [DONE]');
    await waitFor('in-flight streams = 0', async () => ((await metricValue(gw.adminUrl, 'switchboard_in_flight_streams')) === 0 ? true : undefined));
    await waitFor('in-flight requests = 0', async () => ((await metricValue(gw.adminUrl, 'switchboard_in_flight_requests')) === 0 ? true : undefined));
    expect(await metricValue(gw.adminUrl, 'switchboard_tokens_total', { model: 'held', direction: 'input' })).toBe(7);
    expect(await metricValue(gw.adminUrl, 'switchboard_tokens_total', { model: 'held', direction: 'output' })).toBe(2);
  });

  it('exposes the admission queue depth', async () => {
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(text).toMatch(/^# TYPE switchboard_in_flight_streams gauge$/m);
    expect(text).toMatch(/^switchboard_admission_queue_depth 0$/m);
  });
});
