// A work queue with client-go's guarantees: a key waiting in the queue is stored once however often
// it is added; a key is never handed to two workers at once (re-added while processing, it runs
// again once after done()); failures back off per key, and retries share a global token bucket.
import type { Registry } from 'prom-client';
import { backoffDelay } from './backoff.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { errorMessage, silentLogger, type Logger } from './logger.js';
import { counter, DURATION_BUCKETS, gauge, histogram } from './metrics.js';

/** Continuous-refill token bucket (golang.org/x/time/rate semantics: reserve now, wait the debt). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new Error(`token bucket needs qps > 0 and burst >= 1 (got qps=${qps}, burst=${burst})`);
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Takes one token; returns how many ms the caller must wait before using it (0 = now). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }
}

export interface WorkQueueOptions {
  /** For logs and the `name` label of the metrics. */
  name: string;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  /** Per-key backoff: first retry after baseDelayMs, doubling per failure up to maxDelayMs. Defaults 5 ms and 60 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Global token bucket shared by all rate-limited re-adds. Defaults 10 qps, burst 100 (client-go's). */
  qps?: number;
  burst?: number;
}

export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly bucket: TokenBucket;

  private queue: string[] = [];
  /** Keys that need processing: in `queue`, or processing and to be processed again. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly failures = new Map<string, number>();
  private readonly enqueuedAt = new Map<string, number>();
  private getters: Array<(key: string | undefined) => void> = [];
  private shutdown = false;
  private draining = false;
  private drained: Array<() => void> = [];
  private readonly metrics;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.log = options.logger ?? silentLogger;
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.bucket = new TokenBucket(options.qps ?? 10, options.burst ?? 100, this.clock);
    const r = options.registry;
    this.metrics = r && {
      depth: gauge(r, { name: 'workqueue_depth', help: 'Keys waiting in the work queue (ready, not processing).', labelNames: ['name'] }),
      adds: counter(r, { name: 'workqueue_adds_total', help: 'Keys added to the work queue (before de-duplication).', labelNames: ['name'] }),
      retries: counter(r, { name: 'workqueue_retries_total', help: 'Rate-limited re-adds after a failure.', labelNames: ['name'] }),
      work: histogram(r, { name: 'workqueue_work_duration_seconds', help: 'Time a worker spends on one key.', labelNames: ['name'], buckets: DURATION_BUCKETS }),
      latency: histogram(r, { name: 'workqueue_queue_duration_seconds', help: 'Time a key waits in the queue before a worker takes it.', labelNames: ['name'], buckets: DURATION_BUCKETS }),
    };
    this.metrics?.depth.set({ name: this.name }, 0);
  }

  get shuttingDown(): boolean {
    return this.shutdown;
  }

  /** Keys ready to be taken (excludes keys processing or waiting for a delay). */
  len(): number {
    return this.queue.length;
  }

  /** Queues `key` unless it is already queued; a key that is processing runs again after done(). */
  add(key: string): void {
    if (this.shutdown) return;
    this.metrics?.adds.inc({ name: this.name });
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `delayMs`; of several pending delays for one key the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shutdown) return;
    if (delayMs <= 0) return this.add(key);
    const at = this.clock.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { at, handle });
  }

  /** Re-adds a failed key after max(its exponential backoff, the global bucket's wait). */
  addRateLimited(key: string): void {
    if (this.shutdown) return;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = Math.max(backoffDelay({ baseMs: this.baseDelayMs, maxMs: this.maxDelayMs }, n), this.bucket.reserve());
    this.metrics?.retries.inc({ name: this.name });
    this.addAfter(key, delay);
  }

  /** Clears the failure history of `key` (call after it was processed successfully). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process (marked processing until done()), or undefined once shut down
   *  (or drained). */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined || this.shutdown) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile, queues it again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    this.checkDrained();
  }

  /** Stops now: queued and delayed keys are dropped, get() returns undefined; in-flight work
   *  finishes on its own. */
  shutDown(): void {
    this.shutdown = true;
    this.draining = false;
    for (const { handle } of this.waiting.values()) this.clock.clearTimeout(handle);
    this.waiting.clear();
    this.queue = [];
    this.dirty.clear();
    this.enqueuedAt.clear();
    this.metrics?.depth.set({ name: this.name }, 0);
    this.releaseGetters();
    this.checkDrained();
  }

  /** Stops taking new keys but processes everything already queued; resolves when nothing is
   *  queued or processing. Delayed keys are dropped. */
  shutDownWithDrain(): Promise<void> {
    if (!this.shutdown) {
      this.shutdown = true;
      this.draining = true;
      for (const { handle } of this.waiting.values()) this.clock.clearTimeout(handle);
      this.waiting.clear();
    }
    const p = new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.queue.length === 0) this.releaseGetters();
    this.checkDrained();
    return p;
  }

  /** Runs `workers` loops that take keys and call `process`; resolves when the queue is shut
   *  down and every worker has returned. `process` should not throw (errors are logged). */
  async run(workers: number, process: (key: string) => Promise<void>): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        const started = this.clock.now();
        try {
          await process(key);
        } catch (err) {
          this.log.error({ queue: this.name, key, err: errorMessage(err) }, 'work item handler threw');
        } finally {
          this.metrics?.work.observe({ name: this.name }, (this.clock.now() - started) / 1000);
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
  }

  private push(key: string): void {
    this.queue.push(key);
    this.enqueuedAt.set(key, this.clock.now());
    this.metrics?.depth.set({ name: this.name }, this.queue.length);
    const getter = this.getters.shift();
    if (getter) getter(this.take());
  }

  private take(): string | undefined {
    if (this.shutdown && !this.draining) return undefined;
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    const at = this.enqueuedAt.get(key);
    this.enqueuedAt.delete(key);
    if (at !== undefined) this.metrics?.latency.observe({ name: this.name }, (this.clock.now() - at) / 1000);
    this.metrics?.depth.set({ name: this.name }, this.queue.length);
    return key;
  }

  private releaseGetters(): void {
    const getters = this.getters;
    this.getters = [];
    for (const g of getters) g(undefined);
  }

  private checkDrained(): void {
    if (!this.shutdown) return;
    if (this.draining && this.queue.length === 0) this.releaseGetters();
    if (this.queue.length > 0 || this.processing.size > 0) return;
    const waiters = this.drained;
    this.drained = [];
    for (const w of waiters) w();
  }
}
