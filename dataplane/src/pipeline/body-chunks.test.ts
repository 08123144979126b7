import { describe, expect, it } from '@jest/globals';
import { PassThrough, Writable } from 'node:stream';
import { forEachChunk, readFirstChunk } from './body-chunks.js';

/** A client whose backpressure the test decides (writableNeedDrain, 'drain' emitted by hand). */
function client(needDrain = false): Writable {
  const writable = new Writable({ write: (_chunk, _encoding, done) => done() });
  Object.defineProperty(writable, 'writableNeedDrain', { get: () => needDrain });
  return writable;
}

describe('reading an upstream body by events', () => {
  it('reads the first chunk and leaves the rest in the paused body', async () => {
    const body = new PassThrough();
    body.write('one');
    body.write('two');
    const first = await readFirstChunk(body);
    expect(first?.toString()).toBe('one');
    expect(body.isPaused()).toBe(true);
    body.end();
    const rest: string[] = [];
    await forEachChunk(body, client(), (chunk) => {
      rest.push(chunk.toString());
      return true;
    });
    expect(rest).toEqual(['two']);
  });

  it('ends at once when the first chunk was the whole body and the body ended meanwhile', async () => {
    const body = new PassThrough();
    body.end('all');
    expect((await readFirstChunk(body))?.toString()).toBe('all');
    await new Promise((resolve) => setImmediate(resolve));
    expect(body.readableEnded).toBe(true);
    await expect(forEachChunk(body, client(), () => true)).resolves.toBeUndefined();
  });

  it('reads an empty body as no first chunk', async () => {
    const body = new PassThrough();
    body.end();
    await expect(readFirstChunk(body)).resolves.toBeUndefined();
  });

  it('fails the first read with the upstream error, or as a premature close when the body is destroyed', async () => {
    const failing = new PassThrough();
    const read = readFirstChunk(failing);
    failing.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(read).rejects.toMatchObject({ code: 'ECONNRESET' });
    const cancelled = new PassThrough();
    const cut = readFirstChunk(cancelled);
    cancelled.destroy();
    await expect(cut).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('pauses the body while the client is full and resumes it on drain', async () => {
    const body = new PassThrough();
    const full = client();
    const seen: string[] = [];
    const done = forEachChunk(body, full, (chunk) => {
      seen.push(chunk.toString());
      return false; // the client is full after every chunk
    });
    body.write('a');
    body.write('b');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['a']);
    expect(body.isPaused()).toBe(true);
    full.emit('drain');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['a', 'b']);
    body.end();
    full.emit('drain');
    await done;
    expect(full.listenerCount('drain')).toBe(0);
  });

  it('waits for a full client to drain before the first chunk', async () => {
    const body = new PassThrough();
    const full = client(true);
    const seen: string[] = [];
    const done = forEachChunk(body, full, (chunk) => {
      seen.push(chunk.toString());
      return true;
    });
    body.end('x');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([]);
    full.emit('drain');
    await done;
    expect(seen).toEqual(['x']);
  });

  it('ends with a premature close when the body is destroyed mid-stream (a cancelled relay)', async () => {
    const body = new PassThrough();
    const done = forEachChunk(body, client(), () => true);
    body.write('a');
    body.destroy();
    await expect(done).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });
});
