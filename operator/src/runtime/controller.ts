// The loop around a reconciler: informers feed keys into a work queue; workers call
// reconcile(key). The reconciler sees only a key and reads current state itself (level-triggered):
// it returns normally (done), asks to be run again later ({ requeueAfter }), or throws (retried
// with per-key backoff).
import type { Registry } from 'prom-client';
import { realClock, type Clock } from './clock.js';
import type { Informer } from './informer.js';
import { objectKey, splitKey, type KubeObject } from './kube.js';
import { errorMessage, silentLogger, type Logger } from './logger.js';
import { counter, DURATION_BUCKETS, histogram } from './metrics.js';
import { WorkQueue, type WorkQueueOptions } from './queue.js';

export interface ReconcileResult {
  /** Run this key again after so many ms (and forget its failures). */
  requeueAfter?: number;
}

export interface ReconcileContext {
  key: string;
  namespace: string | undefined;
  name: string;
  /** Failures of this key since its last success (0 on a first try). */
  retries: number;
  /** Aborted when the controller stops (e.g. leadership lost). */
  signal: AbortSignal;
}

export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  /** For logs, metrics (`controller` label) and the queue's name. */
  name: string;
  reconcile: Reconcile;
  /** Concurrent reconciles (never two for one key). Default 2. */
  workers?: number;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  /** Backoff and rate-limit settings of the work queue. */
  queue?: Omit<WorkQueueOptions, 'name' | 'clock' | 'logger' | 'registry'>;
}

interface Source {
  informer: Informer<KubeObject>;
  toKeys: (obj: KubeObject) => string[];
}

export interface OwnerSelector {
  kind: string;
  /** `group/version` or just `group`; omitted = any group. */
  apiVersion?: string;
}

/** Keys of the controlling owner(s) of `obj` that match `owner`, in obj's namespace. */
export function controllerOwnerKeys(obj: KubeObject, owner: OwnerSelector): string[] {
  const group = (v: string): string => (v.includes('/') ? v.slice(0, v.indexOf('/')) : v.includes('.') ? v : '');
  const ns = obj.metadata?.namespace;
  return (obj.metadata?.ownerReferences ?? [])
    .filter((ref) => ref.controller === true && ref.kind === owner.kind && (owner.apiVersion === undefined || group(ref.apiVersion) === group(owner.apiVersion)))
    .map((ref) => (ns ? `${ns}/${ref.name}` : ref.name));
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly sources: Source[] = [];
  private readonly reconcile: Reconcile;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics;
  private unsubscribe: Array<() => void> = [];
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconcile = options.reconcile;
    this.workers = options.workers ?? 2;
    this.clock = options.clock ?? realClock;
    this.log = options.logger ?? silentLogger;
    this.queue = new WorkQueue({ ...options.queue, name: options.name, clock: this.clock, logger: this.log, registry: options.registry });
    const r = options.registry;
    this.metrics = r && {
      total: counter(r, { name: 'reconcile_total', help: 'Reconciles by result (success, requeue, error).', labelNames: ['controller', 'result'] }),
      errors: counter(r, { name: 'reconcile_errors_total', help: 'Reconciles that threw (retried with backoff).', labelNames: ['controller'] }),
      duration: histogram(r, { name: 'reconcile_duration_seconds', help: 'Time of one reconcile.', labelNames: ['controller'], buckets: DURATION_BUCKETS }),
    };
  }

  /** Reconcile the objects of `informer` themselves (key = the object's namespace/name). */
  for<T extends KubeObject>(informer: Informer<T>, filter?: (obj: T) => boolean): this {
    return this.watches(informer, (obj) => (filter && !filter(obj) ? [] : [objectKey(obj)]));
  }

  /** Reconcile the controlling owner when an object of `informer` changes. */
  owns<T extends KubeObject>(informer: Informer<T>, owner: OwnerSelector): this {
    return this.watches(informer, (obj) => controllerOwnerKeys(obj, owner));
  }

  /** Reconcile the keys `toKeys` maps each changed object of `informer` to. */
  watches<T extends KubeObject>(informer: Informer<T>, toKeys: (obj: T) => string[]): this {
    if (this.started) throw new Error(`controller ${this.name}: add sources before start()`);
    this.sources.push({ informer: informer as unknown as Informer<KubeObject>, toKeys: toKeys as (obj: KubeObject) => string[] });
    return this;
  }

  /** Queues `key` by hand (e.g. from a timer or another controller). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Subscribes to the informers, waits for them to sync, queues every current object and runs
   *  the workers. Resolves once the controller has stopped. A controller runs once. */
  start(): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} was already started`);
    this.started = true;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
    return this.running;
  }

  /** Stops taking keys; with drain, finishes queued keys first. Waits for running reconciles. */
  async stop(options: { drain?: boolean } = {}): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (options.drain) await this.queue.shutDownWithDrain();
    else this.queue.shutDown();
    this.abort?.abort();
    await this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    for (const s of this.sources) {
      const enqueue = (obj: KubeObject): void => {
        for (const key of this.keysOf(s, obj)) this.queue.add(key);
      };
      this.unsubscribe.push(s.informer.addHandler({ onAdd: enqueue, onUpdate: (_old, obj) => enqueue(obj), onDelete: enqueue }));
    }
    for (const s of this.sources) {
      if (!(await s.informer.waitForSync(signal))) return;
    }
    for (const s of this.sources) for (const obj of s.informer.list()) for (const key of this.keysOf(s, obj)) this.queue.add(key);
    this.log.info({ controller: this.name, workers: this.workers, queued: this.queue.len() }, 'controller started');
    await this.queue.run(this.workers, (key) => this.process(key, signal));
    this.log.info({ controller: this.name }, 'controller stopped');
  }

  private keysOf(s: Source, obj: KubeObject): string[] {
    try {
      return s.toKeys(obj);
    } catch (err) {
      this.log.error({ controller: this.name, informer: s.informer.name, key: objectKey(obj), err: errorMessage(err) }, 'mapping an object to keys threw');
      return [];
    }
  }

  private async process(key: string, signal: AbortSignal): Promise<void> {
    const started = this.clock.now();
    const { namespace, name } = splitKey(key);
    const labels = { controller: this.name };
    try {
      const result = await this.reconcile(key, { key, namespace, name, retries: this.queue.numRequeues(key), signal });
      this.queue.forget(key);
      if (result && typeof result.requeueAfter === 'number' && result.requeueAfter >= 0) {
        this.queue.addAfter(key, result.requeueAfter);
        this.metrics?.total.inc({ ...labels, result: 'requeue' });
      } else {
        this.metrics?.total.inc({ ...labels, result: 'success' });
      }
    } catch (err) {
      this.metrics?.total.inc({ ...labels, result: 'error' });
      this.metrics?.errors.inc(labels);
      this.log.warn({ controller: this.name, key, err: errorMessage(err), retries: this.queue.numRequeues(key) + 1 }, 'reconcile failed; retrying with backoff');
      this.queue.addRateLimited(key);
    } finally {
      this.metrics?.duration.observe(labels, (this.clock.now() - started) / 1000);
    }
  }
}
