import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { StreamRegistry } from '../lifecycle/shutdown.js';
import { HEARTBEAT, relayStream, shutdownEvent, type StreamRelayOptions } from './relay.js';
import { feedAnswer } from './fed-answer.test-support.js';

/** Collects what the relay writes to the client. */
function fakeResponse(): { res: ServerResponse; body: () => string; writes: () => number } {
  const parts: string[] = [];
  const res = Object.assign(new EventEmitter(), {
    destroyed: false,
    writableNeedDrain: false,
    writeHead: () => res,
    write: (data: string | Buffer) => {
      parts.push(data.toString());
      return true;
    },
    end: () => undefined,
  });
  return { res: res as unknown as ServerResponse, body: () => parts.join(''), writes: () => parts.length };
}

async function relay(list: string[], opts: Partial<StreamRelayOptions> = {}) {
  const { res, body, writes } = fakeResponse();
  const upstream = feedAnswer();
  for (const chunk of list.slice(1)) upstream.data(chunk);
  upstream.end();
  const result = await relayStream(res, Buffer.from(list[0]!), upstream.answer, {}, {
    upstreamWire: 'openai',
    clientWire: 'openai',
    translator: undefined,
    clientModel: 'm',
    includeUsage: true,
    hideUsageChunk: false,
    ...opts,
  });
  return { ...result, body: body(), writes: writes() };
}

const content = (text: string): string => `data: {"choices":[{"index":0,"delta":{"content":"${text}"}}]}\n\n`;
const usage = 'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n';
const done = 'data: [DONE]\n\n';
const stream = [content('a'), content('b'), usage, done];

describe('stream relay', () => {
  it('relays whole-event chunks byte for byte, one write per chunk, and still reads usage', async () => {
    const out = await relay(stream);
    expect(out.body).toBe(stream.join(''));
    expect(out.writes).toBe(4);
    expect(out.usage).toEqual({ inputTokens: 3, outputTokens: 2 });
    expect(out.completed).toBe(true);
  });

  it('reassembles events split across chunks at any offset', async () => {
    const text = stream.join('');
    for (let cut = 1; cut < text.length; cut += 7) {
      const out = await relay([text.slice(0, cut), text.slice(cut)]);
      expect(out.body).toBe(text);
      expect(out.usage).toEqual({ inputTokens: 3, outputTokens: 2 });
    }
  });

  it('hides the usage chunk the gateway asked for when the client did not', async () => {
    const out = await relay(stream, { includeUsage: false, hideUsageChunk: true });
    expect(out.body).toBe(content('a') + content('b') + done);
    expect(out.usage).toEqual({ inputTokens: 3, outputTokens: 2 });
  });

  it('keeps CRLF-framed events intact', async () => {
    const crlf = stream.map((e) => e.replace(/\n/g, '\r\n'));
    const out = await relay(crlf);
    expect(out.body.replace(/\r\n/g, '\n')).toBe(stream.join(''));
  });

  it('ends a stream the upstream cut with a well-formed retryable error event', async () => {
    const { res, body } = fakeResponse();
    const upstream = feedAnswer();
    upstream.data(content('b'));
    upstream.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const result = await relayStream(res, Buffer.from(content('a')), upstream.answer, {}, {
      upstreamWire: 'openai',
      clientWire: 'openai',
      translator: undefined,
      clientModel: 'm',
      includeUsage: false,
      hideUsageChunk: false,
    });
    expect(result.completed).toBe(false);
    const events = body().trim().split('\n\n');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice('data: '.length))).toMatchObject({ error: { code: 'stream_interrupted', type: 'api_error' } });
  });
});

describe('stream relay from the upstream answer', () => {
  const options: StreamRelayOptions = { upstreamWire: 'openai', clientWire: 'openai', translator: undefined, clientModel: 'm', includeUsage: true, hideUsageChunk: false };

  it('relays chunks as they arrive, byte for byte, and reads usage', async () => {
    const { res, body, writes } = fakeResponse();
    const upstream = feedAnswer();
    const relayed = relayStream(res, Buffer.from(stream[0]!), upstream.answer, {}, options);
    for (const event of stream.slice(1)) upstream.data(event);
    upstream.end();
    const result = await relayed;
    expect(body()).toBe(stream.join(''));
    expect(writes()).toBe(4);
    expect(result).toEqual({ usage: { inputTokens: 3, outputTokens: 2 }, completed: true });
  });

  it('writes nothing more while the client has not drained the first chunk, and pauses the upstream', async () => {
    const { res, body } = fakeResponse();
    let full = true;
    const write = res.write.bind(res) as (data: string | Buffer) => boolean;
    (res as unknown as { write: (data: string | Buffer) => boolean }).write = (data) => write(data) && !full;
    Object.defineProperty(res, 'writableNeedDrain', { get: () => full });
    const upstream = feedAnswer();
    const relayed = relayStream(res, Buffer.from(content('a')), upstream.answer, {}, { ...options, includeUsage: false });
    upstream.data(content('b'));
    upstream.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(body()).toBe(content('a'));
    expect(upstream.controller.paused).toBe(true);
    full = false;
    (res as unknown as EventEmitter).emit('drain');
    await relayed;
    expect(body()).toBe(content('a') + content('b'));
  });

  it('ends with the shutdown event when the shutdown cancels the answer', async () => {
    const { res, body } = fakeResponse();
    const streams = new StreamRegistry();
    const upstream = feedAnswer();
    const relayed = relayStream(res, Buffer.from(content('a')), upstream.answer, {}, { ...options, includeUsage: false, streams, cancel: () => upstream.answer.abort() });
    await new Promise((resolve) => setImmediate(resolve));
    streams.endAll();
    const result = await relayed;
    expect(result.completed).toBe(false);
    expect(upstream.controller.aborted).toBe(true);
    expect(body()).toBe(content('a') + shutdownEvent('openai'));
  });

  it('ends an answer the upstream cut with the retryable error event', async () => {
    const { res, body } = fakeResponse();
    const upstream = feedAnswer();
    const relayed = relayStream(res, Buffer.from(content('a')), upstream.answer, {}, { ...options, includeUsage: false });
    upstream.data(content('b'));
    upstream.fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const result = await relayed;
    expect(result.completed).toBe(false);
    const events = body().trim().split('\n\n');
    expect(events.slice(0, 2)).toEqual([content('a').trim(), content('b').trim()]);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.at(-2)).toContain('upstream stream interrupted: ECONNRESET');
  });
});

describe('stream relay under shutdown', () => {
  it('ends a registered stream with a final retryable event and [DONE] when the shutdown asks', async () => {
    const { res, body } = fakeResponse();
    const streams = new StreamRegistry();
    // An upstream that goes quiet until it is cancelled.
    const quiet = feedAnswer();
    const relayed = relayStream(res, Buffer.from(content('a')), quiet.answer, {}, {
      upstreamWire: 'openai',
      clientWire: 'openai',
      translator: undefined,
      clientModel: 'm',
      includeUsage: false,
      hideUsageChunk: false,
      streams,
      cancel: () => quiet.answer.abort(),
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams.size).toBe(1);
    streams.endAll();
    const result = await relayed;
    expect(result.completed).toBe(false);
    expect(streams.size).toBe(0);
    expect(body()).toBe(content('a') + shutdownEvent('openai'));
    const events = body().split('\n\n').filter(Boolean);
    expect(JSON.parse(events[1]!.slice('data: '.length))).toMatchObject({ error: { code: 'gateway_shutdown' } });
    expect(events[2]).toBe('data: [DONE]');
  });

  it('tells Anthropic clients with an overloaded_error event', () => {
    expect(shutdownEvent('anthropic')).toMatch(/^event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error",/);
  });

  it('writes a heartbeat comment while the upstream is quiet', async () => {
    const { res, body } = fakeResponse();
    const slow = feedAnswer();
    setTimeout(() => {
      slow.data(done);
      slow.end();
    }, 120);
    await relayStream(res, Buffer.from(content('a')), slow.answer, {}, {
      upstreamWire: 'openai',
      clientWire: 'openai',
      translator: undefined,
      clientModel: 'm',
      includeUsage: false,
      hideUsageChunk: false,
      heartbeatMs: 50,
    });
    expect(body()).toBe(content('a') + HEARTBEAT + HEARTBEAT + done);
  });
});
