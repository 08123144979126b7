// Reads an upstream body chunk by chunk through 'data' events, with the client's backpressure:
// no promise per chunk on the stream path, where an async iterator costs several per chunk.
import type { Readable, Writable } from 'node:stream';

function prematureClose(): NodeJS.ErrnoException {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * Listens to `body` until it ends (resolving with `ended`), fails, closes early, or `onData` calls
 * `finish`; then removes its listeners and runs `cleanup`. The listeners are on when this returns:
 * the caller starts the flow.
 */
function listen<T>(body: Readable, onData: (chunk: Buffer, finish: (value: T) => void) => void, ended: T, cleanup?: () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      body.off('data', data).off('end', end).off('error', error).off('close', close);
      cleanup?.();
    };
    const finish = (value: T): void => {
      settle();
      resolve(value);
    };
    const data = (chunk: Buffer): void => onData(chunk, finish);
    const end = (): void => finish(ended);
    const error = (e: Error): void => {
      settle();
      reject(e);
    };
    const close = (): void => {
      settle();
      reject(prematureClose());
    };
    body.on('data', data).on('end', end).on('error', error).on('close', close);
  });
}

/** The body's first chunk (undefined: it ended empty); the body is left paused. */
export function readFirstChunk(body: Readable): Promise<Buffer | undefined> {
  const first = listen<Buffer | undefined>(
    body,
    (chunk, finish) => {
      body.pause();
      finish(chunk);
    },
    undefined,
  );
  body.resume();
  return first;
}

/**
 * Hands every further chunk to `onChunk` until the body ends. `onChunk` writes to `client` and
 * returns what the write returned: on false the body pauses until the client drains.
 */
export function forEachChunk(body: Readable, client: Writable, onChunk: (chunk: Buffer) => boolean): Promise<void> {
  // A body read whole with its first chunk may have ended (or failed) before this call.
  if (body.readableEnded) return Promise.resolve();
  if (body.errored) return Promise.reject(body.errored);
  if (body.destroyed) return Promise.reject(prematureClose());
  const resume = (): void => void body.resume();
  // Paused first, so that adding the 'data' listener does not start the flow by itself.
  body.pause();
  const done = listen<void>(
    body,
    (chunk) => {
      if (!onChunk(chunk)) {
        body.pause();
        client.once('drain', resume);
      }
    },
    undefined,
    () => client.off('drain', resume),
  );
  if (client.writableNeedDrain) client.once('drain', resume);
  else body.resume();
  return done;
}
