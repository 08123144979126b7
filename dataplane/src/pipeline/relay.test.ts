import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { StreamRegistry } from '../lifecycle/shutdown.js';
import { HEARTBEAT, relayStream, shutdownEvent, type StreamRelayOptions } from './relay.js';

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

async function* chunks(list: string[]): AsyncGenerator<Buffer> {
  for (const c of list) yield Buffer.from(c);
}

async function relay(list: string[], opts: Partial<StreamRelayOptions> = {}) {
  const { res, body, writes } = fakeResponse();
  const iterator = chunks(list.slice(1));
  const result = await relayStream(res, Buffer.from(list[0]!), iterator, {}, {
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
    async function* cut(): AsyncGenerator<Buffer> {
      yield Buffer.from(content('b'));
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    const result = await relayStream(res, Buffer.from(content('a')), cut(), {}, {
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

describe('stream relay backpressure on an iterator (a traced try)', () => {
  it('reads no further chunk while the client has not drained the first', async () => {
    const { res, body } = fakeResponse();
    let full = true;
    const write = res.write.bind(res) as (data: string | Buffer) => boolean;
    (res as unknown as { write: (data: string | Buffer) => boolean }).write = (data) => write(data) && !full;
    let pulls = 0;
    const rest: AsyncIterator<Buffer> = {
      next: () => {
        pulls++;
        return Promise.resolve(pulls === 1 ? { done: false, value: Buffer.from(content('b')) } : { done: true, value: undefined });
      },
    };
    const relayed = relayStream(res, Buffer.from(content('a')), rest, {}, { upstreamWire: 'openai', clientWire: 'openai', translator: undefined, clientModel: 'm', includeUsage: false, hideUsageChunk: false });
    await new Promise((resolve) => setImmediate(resolve));
    expect(pulls).toBe(0);
    full = false;
    (res as unknown as EventEmitter).emit('drain');
    await relayed;
    expect(pulls).toBe(2);
    expect(body()).toBe(content('a') + content('b'));
  });
});

describe('stream relay from the upstream body itself (no iterator)', () => {
  const options: StreamRelayOptions = { upstreamWire: 'openai', clientWire: 'openai', translator: undefined, clientModel: 'm', includeUsage: true, hideUsageChunk: false };

  it('relays the rest of the body byte for byte and reads usage', async () => {
    const { res, body, writes } = fakeResponse();
    const upstream = new PassThrough();
    const relayed = relayStream(res, Buffer.from(stream[0]!), upstream, {}, options);
    for (const event of stream.slice(1)) upstream.write(event);
    upstream.end();
    const result = await relayed;
    expect(body()).toBe(stream.join(''));
    expect(writes()).toBe(4);
    expect(result).toEqual({ usage: { inputTokens: 3, outputTokens: 2 }, completed: true });
  });

  it('ends with the shutdown event when the shutdown cancels the body', async () => {
    const { res, body } = fakeResponse();
    const streams = new StreamRegistry();
    const upstream = new PassThrough();
    const relayed = relayStream(res, Buffer.from(content('a')), upstream, {}, { ...options, includeUsage: false, streams, cancel: () => upstream.destroy() });
    await new Promise((resolve) => setImmediate(resolve));
    streams.endAll();
    const result = await relayed;
    expect(result.completed).toBe(false);
    expect(body()).toBe(content('a') + shutdownEvent('openai'));
  });

  it('ends a body the upstream cut with the retryable error event', async () => {
    const { res, body } = fakeResponse();
    const upstream = new PassThrough();
    const relayed = relayStream(res, Buffer.from(content('a')), upstream, {}, { ...options, includeUsage: false });
    upstream.write(content('b'));
    upstream.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
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
    let cancel: () => void = () => undefined;
    // An upstream that goes quiet until it is cancelled.
    const quiet: AsyncIterator<Buffer> = { next: () => new Promise((_resolve, reject) => (cancel = () => reject(new Error('destroyed')))) };
    const relayed = relayStream(res, Buffer.from(content('a')), quiet, {}, {
      upstreamWire: 'openai',
      clientWire: 'openai',
      translator: undefined,
      clientModel: 'm',
      includeUsage: false,
      hideUsageChunk: false,
      streams,
      cancel: () => cancel(),
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
    const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    async function* slow(): AsyncGenerator<Buffer> {
      await later(120);
      yield Buffer.from(done);
    }
    await relayStream(res, Buffer.from(content('a')), slow(), {}, {
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
