// One upstream try's answer, read through undici's dispatch handler API. undici's request API
// wraps a handler like this one in an AsyncResource, a promise, an abort-signal listener and a
// Readable body per request: in the gateway that was ~9 % of its saturation throughput
// (docs/benchmarks.md). This handler keeps the chunks that arrive while nobody reads (and pauses
// the upstream socket then), and hands them to one reader at a time: the whole text, the first
// chunk, or every chunk with the client's backpressure.
//
// Its timeouts are native timers of its own: undici's headers and body timeouts are "fast
// timers" that stay in a list until its next half-second tick, so two per request outlived
// young-generation collections and were promoted (~10,000 alive at saturation).
import type { IncomingHttpHeaders } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { errors } from './undici-core.js';

type Controller = Dispatcher.DispatchController;

/** Where the chunks of an answer go; every further chunk, end or failure goes to the reader set last. */
interface Reader {
  chunk(chunk: Buffer): void;
  end(): void;
  fail(error: Error): void;
}

/** What a stream relay reads the rest of an answer through. */
export interface ChunkSource {
  /**
   * Hands every further chunk to `onChunk` until the answer ends. `onChunk` writes to `client`
   * and returns what the write returned: on false no chunk is read until the client drains.
   */
  forEach(client: Writable, onChunk: (chunk: Buffer) => boolean): Promise<void>;
}

/** The text of chunks; one chunk (most JSON answers) is decoded without a copy. */
function utf8(parts: Buffer[]): string {
  return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

export class UpstreamAnswer implements Dispatcher.DispatchHandler, ChunkSource {
  status = 0;
  headers: IncomingHttpHeaders = {};
  /** Settles when the response starts (headers read) or the try fails before that. */
  readonly started: Promise<void>;
  private start!: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private controller: Controller | undefined;
  /** Takes the request out of the dispatcher's queue while it waits for a connection. */
  private cancelQueued: ((reason: Error) => void) | undefined;
  private abortReason: Error | undefined;
  /** Chunks that arrived while no reader was set. */
  private readonly held: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private reader: Reader | undefined;
  private whenDone: (() => void) | undefined;
  /** Fails the answer when the upstream sends nothing for idleMs while it is read. */
  private idle: NodeJS.Timeout | undefined;

  /** `idleMs`: the longest silence between body chunks (0: none). */
  constructor(private readonly idleMs = 0) {
    this.started = new Promise((resolve, reject) => (this.start = { resolve, reject }));
  }

  /** The dispatch option (kQueuedAbort) through which a request waiting for a connection is taken out of the queue. */
  readonly onQueued = (cancel: (reason: Error) => void): void => {
    if (this.abortReason) cancel(this.abortReason);
    else this.cancelQueued = cancel;
  };

  /** Runs `fn` once the answer has ended or failed (at once when it has). */
  onDone(fn: () => void): void {
    if (this.ended || this.failure) fn();
    else this.whenDone = fn;
  }

  /** Stops the try: before the response starts `started` rejects with `reason`; after, a pending read does. */
  abort(reason: Error = new errors.RequestAbortedError()): void {
    if (this.abortReason || this.ended) return;
    this.abortReason = reason;
    if (this.controller) this.controller.abort(reason);
    else this.cancelQueued?.(reason);
    this.onResponseError(this.controller, reason);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // an informational answer: the real one follows
    this.status = statusCode;
    this.headers = headers;
    this.controller = controller;
    if (this.idleMs > 0) {
      this.idle = setTimeout(() => this.abort(new errors.BodyTimeoutError()), this.idleMs);
      this.idle.unref();
    }
    const start = this.start;
    this.start = undefined;
    start?.resolve();
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.idle?.refresh();
    if (this.reader) this.reader.chunk(chunk);
    else {
      this.held.push(chunk);
      controller.pause();
    }
  }

  onResponseEnd(): void {
    this.ended = true;
    this.done();
    this.reader?.end();
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    if (this.ended || this.failure) return;
    this.failure = error;
    this.done();
    const start = this.start;
    this.start = undefined;
    if (start) start.reject(error);
    else this.reader?.fail(error);
  }

  /** Reads on, the idle time counted afresh (a reader that kept the upstream paused is not its silence). */
  private resume(): void {
    this.idle?.refresh();
    this.controller?.resume();
  }

  private done(): void {
    clearTimeout(this.idle);
    const done = this.whenDone;
    this.whenDone = undefined;
    done?.();
  }

  /** The whole answer as UTF-8 text. */
  text(): Promise<string> {
    const parts = this.held.splice(0);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(utf8(parts));
    return new Promise((resolve, reject) => {
      this.reader = {
        chunk: (chunk) => parts.push(chunk),
        end: () => {
          this.reader = undefined;
          resolve(utf8(parts));
        },
        fail: (error) => {
          this.reader = undefined;
          reject(error);
        },
      };
      this.resume();
    });
  }

  /** The first chunk (undefined: the answer ended empty); later chunks wait, the upstream paused. */
  firstChunk(): Promise<Buffer | undefined> {
    const held = this.held.shift();
    if (held) return Promise.resolve(held);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.reader = {
        chunk: (chunk) => {
          this.reader = undefined;
          this.controller?.pause();
          resolve(chunk);
        },
        end: () => {
          this.reader = undefined;
          resolve(undefined);
        },
        fail: (error) => {
          this.reader = undefined;
          reject(error);
        },
      };
      this.resume();
    });
  }

  forEach(client: Writable, onChunk: (chunk: Buffer) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      /** The client is full: chunks are held until it drains. */
      let waiting = false;
      const finish = (error?: Error): void => {
        this.reader = undefined;
        client.off('drain', pump);
        if (error) reject(error);
        else resolve();
      };
      const wait = (): void => {
        waiting = true;
        this.controller?.pause();
        client.once('drain', pump);
      };
      // Held chunks first, each waiting for room; then the end, or more from the upstream.
      const pump = (): void => {
        waiting = false;
        while (this.held.length > 0) {
          if (!onChunk(this.held.shift()!)) return wait();
        }
        if (this.failure) finish(this.failure);
        else if (this.ended) finish();
        else this.resume();
      };
      this.reader = {
        chunk: (chunk) => {
          if (waiting) this.held.push(chunk);
          else if (!onChunk(chunk)) wait();
        },
        end: () => {
          if (!waiting) finish();
        },
        fail: finish,
      };
      if (client.writableNeedDrain) wait();
      else pump();
    });
  }
}
