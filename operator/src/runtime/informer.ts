// List + watch of one resource into a local cache, with change notifications. It never dies
// silently: a watch that fails is re-listed with capped, jittered exponential backoff (at once for
// the first 410 Gone), and health() tells a readiness probe how long the watch has been down.
import type { Registry } from 'prom-client';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { realClock, sleep, type Clock } from './clock.js';
import {
  collectionPath,
  isGone,
  objectKey,
  WatchInactiveError,
  type KubeClient,
  type KubeObject,
  type RawWatchEvent,
  type ResourceRef,
} from './kube.js';
import { errorMessage, silentLogger, type Logger } from './logger.js';
import { counter, gauge } from './metrics.js';

export interface ListResult<T> {
  items: T[];
  /** The list's resourceVersion: the watch resumes from here. */
  resourceVersion: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}

/** The API boundary of an informer (real: resourceListWatcher; tests: a small fake). */
export interface ListWatcher<T> {
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /** Streams events after `resourceVersion`. Resolves when the server ends the watch or `signal`
   *  aborts; rejects on failure (KubeApiError 410 when `resourceVersion` is too old). */
  watch(resourceVersion: string, handlers: { onOpen(): void; onEvent(event: WatchEvent<T>): void }, signal: AbortSignal): Promise<void>;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerHealth {
  name: string;
  /** The first list has completed: the cache holds the full state once. */
  synced: boolean;
  /** A watch is open right now. */
  watching: boolean;
  /** 0 while watching; otherwise how long no watch has been open (since start or since it broke). */
  watchDownForMs: number;
  /** Since the last list, watch open or watch event (bookmarks included); undefined before any. */
  msSinceLastEvent: number | undefined;
  lastError: string | undefined;
  /** Failures (list or watch) since the last healthy watch. */
  consecutiveFailures: number;
  /** Lists done, the first one included. */
  lists: number;
  resourceVersion: string;
  objects: number;
}

export interface InformerOptions {
  /** For logs, metrics and health, e.g. `configmaps`. */
  name: string;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  registry?: Registry;
  /** Between failed lists/watches. Default 500 ms doubling to 30 s, +0..50 % jitter. */
  backoff?: BackoffOptions;
  /** A watch that ends sooner than this without an event counts as a failure. Default 1 s. */
  minWatchDurationMs?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

function resourceVersionOf(obj: KubeObject): string | undefined {
  return obj.metadata?.resourceVersion;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly name: string;
  private cache = new Map<string, T>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly backoff: BackoffOptions;
  private readonly minWatchMs: number;
  private readonly metrics;

  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private watching = false;
  private watchDownSince: number;
  private lastEventAt: number | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private lists = 0;
  private resourceVersion = '';

  constructor(
    private readonly lw: ListWatcher<T>,
    options: InformerOptions,
  ) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.minWatchMs = options.minWatchDurationMs ?? 1_000;
    this.watchDownSince = this.clock.now();
    const r = options.registry;
    this.metrics = r && {
      lists: counter(r, { name: 'informer_lists_total', help: 'Full lists done by an informer (the first one and every re-list).', labelNames: ['informer'] }),
      failures: counter(r, { name: 'informer_failures_total', help: 'Failed lists and watches, by operation.', labelNames: ['informer', 'op'] }),
      events: counter(r, { name: 'informer_events_total', help: 'Watch events received, by type.', labelNames: ['informer', 'type'] }),
      watching: gauge(r, { name: 'informer_watching', help: '1 while the informer has a watch open.', labelNames: ['informer'] }),
      synced: gauge(r, { name: 'informer_synced', help: '1 once the informer has listed its resource.', labelNames: ['informer'] }),
    };
    this.metrics?.watching.set({ informer: this.name }, 0);
    this.metrics?.synced.set({ informer: this.name }, 0);
  }

  /** Registers handlers; they see every later change (use list() for the current state). Returns an unsubscribe function. */
  addHandler(handlers: InformerHandlers<T>): () => void {
    this.handlers.add(handlers);
    return () => this.handlers.delete(handlers);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.watchDownSince = this.clock.now();
    this.loop = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  health(): InformerHealth {
    const now = this.clock.now();
    return {
      name: this.name,
      synced: this.synced,
      watching: this.watching,
      watchDownForMs: this.watching ? 0 : now - this.watchDownSince,
      msSinceLastEvent: this.lastEventAt === undefined ? undefined : now - this.lastEventAt,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      lists: this.lists,
      resourceVersion: this.resourceVersion,
      objects: this.cache.size,
    };
  }

  private async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      if (needList) {
        try {
          const result = await this.lw.list(signal);
          if (signal.aborted) break;
          this.replace(result.items);
          this.resourceVersion = result.resourceVersion;
          this.lists++;
          this.metrics?.lists.inc({ informer: this.name });
          this.lastEventAt = this.clock.now();
          needList = false;
          this.markSynced();
          this.log.debug({ informer: this.name, objects: this.cache.size, resourceVersion: this.resourceVersion }, 'listed');
        } catch (err) {
          if (signal.aborted) break;
          this.failures++;
          this.lastError = `list: ${errorMessage(err)}`;
          this.metrics?.failures.inc({ informer: this.name, op: 'list' });
          const delay = backoffDelay(this.backoff, this.failures, this.random);
          this.log.warn({ informer: this.name, err: errorMessage(err), retryInMs: Math.round(delay), failures: this.failures }, 'list failed');
          await sleep(this.clock, delay, signal);
          continue;
        }
      }

      const startedAt = this.clock.now();
      let events = 0;
      let failure: unknown;
      try {
        await this.lw.watch(
          this.resourceVersion,
          {
            onOpen: () => this.setWatching(true),
            onEvent: (event) => {
              events++;
              this.apply(event);
            },
          },
          signal,
        );
      } catch (err) {
        failure = err;
      }
      this.setWatching(false);
      if (signal.aborted) break;
      // A watch that did real work proves the connection healthy: start counting failures afresh.
      if (events > 0 || this.clock.now() - startedAt >= this.minWatchMs) this.failures = 0;

      if (failure === undefined || failure instanceof WatchInactiveError) {
        // The server ended the watch (its timeout) or it went quiet: resume from the last
        // resourceVersion, as client-go does; an outdated one comes back as 410 and is re-listed.
        if (events > 0 || this.clock.now() - startedAt >= this.minWatchMs) continue;
        failure = new Error('watch closed immediately');
      }

      this.failures++;
      this.lastError = `watch: ${errorMessage(failure)}`;
      this.metrics?.failures.inc({ informer: this.name, op: 'watch' });
      needList = true;
      const delay = isGone(failure) && this.failures === 1 ? 0 : backoffDelay(this.backoff, this.failures, this.random);
      this.log.warn(
        { informer: this.name, err: errorMessage(failure), gone: isGone(failure), relistInMs: Math.round(delay), failures: this.failures },
        'watch failed; re-listing',
      );
      if (delay > 0) await sleep(this.clock, delay, signal);
    }
    this.setWatching(false);
  }

  private setWatching(on: boolean): void {
    if (on === this.watching) return;
    this.watching = on;
    const now = this.clock.now();
    if (on) {
      this.lastEventAt = now;
      this.lastError = undefined;
    } else {
      this.watchDownSince = now;
    }
    this.metrics?.watching.set({ informer: this.name }, on ? 1 : 0);
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    this.metrics?.synced.set({ informer: this.name }, 1);
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  /** Swaps in a fresh list and emits the difference from the old cache. */
  private replace(items: T[]): void {
    const old = this.cache;
    const next = new Map<string, T>();
    for (const item of items) next.set(objectKey(item), item);
    this.cache = next;
    for (const [key, obj] of next) {
      const before = old.get(key);
      if (!before) this.emit('add', obj);
      else if (resourceVersionOf(before) !== resourceVersionOf(obj)) this.emit('update', obj, before);
    }
    for (const [key, obj] of old) if (!next.has(key)) this.emit('delete', obj);
  }

  private apply(event: WatchEvent<T>): void {
    this.lastEventAt = this.clock.now();
    this.metrics?.events.inc({ informer: this.name, type: event.type });
    const rv = resourceVersionOf(event.object);
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const key = objectKey(event.object);
    const before = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', before ?? event.object);
      return;
    }
    this.cache.set(key, event.object);
    if (before) this.emit('update', event.object, before);
    else this.emit('add', event.object);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, before?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.onAdd?.(obj);
        else if (kind === 'update') h.onUpdate?.(before as T, obj);
        else h.onDelete?.(obj);
      } catch (err) {
        this.log.error({ informer: this.name, event: kind, key: objectKey(obj), err: errorMessage(err) }, 'informer handler threw');
      }
    }
  }
}

export interface ResourceListWatcherOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per list page. Default 500. */
  pageSize?: number;
  /** Server-side watch timeout, randomised in [min, 2*min) so many watches do not expire together. Default 300 s. */
  minWatchTimeoutSeconds?: number;
  /** See WatchOptions.inactivityTimeoutMs. */
  inactivityTimeoutMs?: number;
  random?: () => number;
}

interface ListBody<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/** The real ListWatcher: paginated list, then watch with bookmarks, for any resource. */
export function resourceListWatcher<T extends KubeObject = KubeObject>(
  client: KubeClient,
  ref: ResourceRef,
  options: ResourceListWatcherOptions = {},
): ListWatcher<T> {
  const path = collectionPath(ref);
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const random = options.random ?? Math.random;
  const minTimeout = options.minWatchTimeoutSeconds ?? 300;

  const listAll = async (signal: AbortSignal, limit: number | undefined): Promise<ListResult<T>> => {
    const items: T[] = [];
    let cont: string | undefined;
    for (;;) {
      const page = await client.request<ListBody<T>>('GET', path, { query: { ...selectors, limit, continue: cont }, signal });
      // Items in a list carry no apiVersion/kind; give them the ones a watch event would have.
      const kind = page.kind?.replace(/List$/, '');
      for (const item of page.items ?? []) items.push({ apiVersion: page.apiVersion, kind, ...item });
      cont = page.metadata?.continue;
      if (!cont) return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
    }
  };

  return {
    async list(signal) {
      try {
        return await listAll(signal, options.pageSize ?? 500);
      } catch (err) {
        // The continue token expired mid-way (410): one unpaginated list instead.
        if (isGone(err)) return listAll(signal, undefined);
        throw err;
      }
    },
    watch(resourceVersion, handlers, signal) {
      const timeoutSeconds = Math.floor(minTimeout * (1 + random()));
      return client.watch(
        path,
        { ...selectors, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
        { onOpen: handlers.onOpen, onEvent: (e: RawWatchEvent) => handlers.onEvent(e as WatchEvent<T>) },
        { signal, inactivityTimeoutMs: options.inactivityTimeoutMs },
      );
    },
  };
}
