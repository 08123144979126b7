import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { feedAnswer, RecordingController } from './fed-answer.test-support.js';
import { UpstreamAnswer } from './upstream-answer.js';

/** A client whose backpressure the test decides (writableNeedDrain, 'drain' emitted by hand). */
function client(needDrain = false): Writable {
  const writable = new Writable({ write: (_chunk, _encoding, done) => done() });
  Object.defineProperty(writable, 'writableNeedDrain', { get: () => needDrain });
  return writable;
}

const reset = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

describe('an upstream answer read through the dispatch handler', () => {
  it('starts with the status and headers, and ignores informational answers before them', async () => {
    const answer = new UpstreamAnswer();
    const controller = new RecordingController();
    answer.onRequestStart(controller);
    answer.onResponseStart(controller, 100, {});
    answer.onResponseStart(controller, 429, { 'retry-after': '2' });
    await answer.started;
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('2');
  });

  it('holds chunks that arrive before anyone reads, pausing the upstream, and gives them to text()', async () => {
    const upstream = feedAnswer();
    upstream.data('{"a":');
    expect(upstream.controller.paused).toBe(true);
    const text = upstream.answer.text();
    expect(upstream.controller.paused).toBe(false);
    upstream.data('1}');
    upstream.end();
    await expect(text).resolves.toBe('{"a":1}');
  });

  it('fails text() with the upstream error', async () => {
    const upstream = feedAnswer();
    const text = upstream.answer.text();
    upstream.data('{"a":');
    upstream.fail(reset());
    await expect(text).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('reads the first chunk and leaves the rest held, the upstream paused, until forEach', async () => {
    const upstream = feedAnswer();
    const first = upstream.answer.firstChunk();
    upstream.data('one');
    expect((await first)?.toString()).toBe('one');
    expect(upstream.controller.paused).toBe(true);
    upstream.data('two');
    upstream.end();
    const rest: string[] = [];
    await upstream.answer.forEach(client(), (chunk) => {
      rest.push(chunk.toString());
      return true;
    });
    expect(rest).toEqual(['two']);
  });

  it('ends forEach at once when the first chunk was the whole answer', async () => {
    const upstream = feedAnswer();
    upstream.data('all');
    upstream.end();
    expect((await upstream.answer.firstChunk())?.toString()).toBe('all');
    await expect(upstream.answer.forEach(client(), () => true)).resolves.toBeUndefined();
  });

  it('reads an empty answer as no first chunk', async () => {
    const upstream = feedAnswer();
    const first = upstream.answer.firstChunk();
    upstream.end();
    await expect(first).resolves.toBeUndefined();
  });

  it('fails the first read with the upstream error, or with an abort when the try is cancelled', async () => {
    const failing = feedAnswer();
    const read = failing.answer.firstChunk();
    failing.fail(reset());
    await expect(read).rejects.toMatchObject({ code: 'ECONNRESET' });
    const cancelled = feedAnswer();
    const cut = cancelled.answer.firstChunk();
    cancelled.answer.abort();
    await expect(cut).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    expect(cancelled.controller.aborted).toBe(true);
  });

  it('pauses the upstream while the client is full and hands held chunks over in order on drain', async () => {
    const upstream = feedAnswer();
    const full = client();
    const seen: string[] = [];
    const done = upstream.answer.forEach(full, (chunk) => {
      seen.push(chunk.toString());
      return false; // the client is full after every chunk
    });
    upstream.data('a');
    upstream.data('b');
    upstream.data('c');
    upstream.end();
    expect(seen).toEqual(['a']);
    expect(upstream.controller.paused).toBe(true);
    full.emit('drain');
    expect(seen).toEqual(['a', 'b']);
    full.emit('drain');
    full.emit('drain');
    await done;
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(full.listenerCount('drain')).toBe(0);
  });

  it('waits for a full client to drain before the first chunk it hands over', async () => {
    const upstream = feedAnswer();
    const full = client(true);
    const seen: string[] = [];
    const done = upstream.answer.forEach(full, (chunk) => {
      seen.push(chunk.toString());
      return true;
    });
    upstream.data('x');
    upstream.end();
    expect(seen).toEqual([]);
    full.emit('drain');
    await done;
    expect(seen).toEqual(['x']);
  });

  it('fails forEach when the try is cancelled mid-stream (a shutdown), aborting the upstream', async () => {
    const upstream = feedAnswer();
    const done = upstream.answer.forEach(client(), () => true);
    upstream.data('a');
    upstream.answer.abort();
    await expect(done).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    expect(upstream.controller.aborted).toBe(true);
  });

  it('aborts a try before its request starts at once, and the request when it starts', async () => {
    const answer = new UpstreamAnswer();
    answer.abort();
    await expect(answer.started).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    const controller = new RecordingController();
    answer.onRequestStart(controller);
    expect(controller.aborted).toBe(true);
  });

  it('takes a request waiting for a connection out of the queue when aborted, before or after it queued', () => {
    const queuedFirst = new UpstreamAnswer();
    const cancelled: Error[] = [];
    queuedFirst.onQueued((reason) => cancelled.push(reason));
    queuedFirst.abort();
    const abortedFirst = new UpstreamAnswer();
    abortedFirst.abort();
    abortedFirst.onQueued((reason) => cancelled.push(reason));
    expect(cancelled.map((e) => (e as Error & { code: string }).code)).toEqual(['UND_ERR_ABORTED', 'UND_ERR_ABORTED']);
    void queuedFirst.started.catch(() => undefined);
    void abortedFirst.started.catch(() => undefined);
  });

  it('fails when the upstream is silent for idleMs between chunks, counting from the last one', async () => {
    const answer = new UpstreamAnswer(40);
    const controller = new RecordingController();
    answer.onRequestStart(controller);
    answer.onResponseStart(controller, 200, {});
    const text = answer.text();
    const started = performance.now();
    setTimeout(() => answer.onResponseData(controller, Buffer.from('{"a":')), 25);
    await expect(text).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(25 + 40 - 2);
    expect(controller.aborted).toBe(true);
  });

  it('stops its idle timer once the answer ended', async () => {
    const answer = new UpstreamAnswer(20);
    const controller = new RecordingController();
    answer.onRequestStart(controller);
    answer.onResponseStart(controller, 200, {});
    answer.onResponseData(controller, Buffer.from('done'));
    answer.onResponseEnd();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(controller.aborted).toBe(false);
    await expect(answer.text()).resolves.toBe('done');
  });

  it('tells onDone once the answer ended or failed, and does nothing on an abort after the end', () => {
    const ended = feedAnswer();
    const calls: string[] = [];
    ended.answer.onDone(() => calls.push('ended'));
    ended.end();
    ended.answer.abort();
    expect(ended.controller.aborted).toBe(false);
    const failed = feedAnswer();
    failed.answer.onDone(() => calls.push('failed'));
    failed.fail(reset());
    failed.answer.onDone(() => calls.push('late'));
    expect(calls).toEqual(['ended', 'failed', 'late']);
  });
});
