// Reads an upstream body chunk by chunk through 'data' events, with the client's backpressure:
// no promise per chunk on the stream path, where an async iterator costs several per chunk.
import type { Readable, Writable } from 'node:stream';

function prematureClose(): NodeJS.ErrnoException {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** The body's first chunk (undefined: it ended empty); the body is left paused. */
export function readFirstChunk(body: Readable): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      body.pause();
      settle();
      resolve(chunk);
    };
    const onEnd = (): void => {
      settle();
      resolve(undefined);
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    const onClose = (): void => {
      settle();
      reject(prematureClose());
    };
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    body.resume();
  });
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
  return new Promise((resolve, reject) => {
    const resume = (): void => void body.resume();
    const settle = (): void => {
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      client.off('drain', resume);
    };
    const onData = (chunk: Buffer): void => {
      if (!onChunk(chunk)) {
        body.pause();
        client.once('drain', resume);
      }
    };
    const onEnd = (): void => {
      settle();
      resolve();
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    const onClose = (): void => {
      settle();
      reject(prematureClose());
    };
    // Paused first, so that adding the 'data' listener does not start the flow by itself.
    body.pause().on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    if (client.writableNeedDrain) client.once('drain', resume);
    else body.resume();
  });
}
