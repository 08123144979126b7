// The thin I/O edge of the reconcilers: server-side apply of desired objects (skipped when the
// cache already shows them as desired), deletion of objects no longer wanted, and status writes
// through the status subresource with conflicts re-read and retried.
import { isConflict, isNotFound, objectPath, type Informer, type KubeClient, type KubeObject } from '../runtime/index.js';
import { containsFields, FIELD_MANAGER, jsonEqual, kindOf, resourceRef, type Kind } from './meta.js';
import type { Manifest } from './gateway-workload.js';

/** Caches of the kinds the operator owns, by kind name (e.g. `Deployment`). */
export type OwnedCaches = ReadonlyMap<string, Informer>;

export class ObjectWriter {
  constructor(
    private readonly client: KubeClient,
    private readonly caches: OwnedCaches,
  ) {}

  /** The cached object of `kind` named `name`, if the operator watches that kind. */
  cached(kind: Kind, namespace: string, name: string): KubeObject | undefined {
    return this.caches.get(kind.kind)?.get(`${namespace}/${name}`);
  }

  /** Server-side applies `desired` (field manager switchboard-operator, force) unless the cache
   *  already holds every field of it. Returns whether a request was sent. */
  async apply(desired: Manifest, signal?: AbortSignal): Promise<boolean> {
    const kind = kindOf(desired);
    if (!kind) throw new Error(`no REST mapping for ${desired.apiVersion} ${desired.kind}`);
    const { namespace, name } = desired.metadata;
    const observed = this.cached(kind, namespace, name);
    if (observed && !observed.metadata?.deletionTimestamp && containsFields(observed, desired)) return false;
    await this.client.request('PATCH', objectPath(resourceRef(kind, namespace), name), {
      query: { fieldManager: FIELD_MANAGER, force: true },
      contentType: 'application/apply-patch+yaml',
      body: JSON.stringify(desired),
      signal,
    });
    return true;
  }

  /** Deletes the object if the cache shows one controlled by `ownerUid`. Returns whether it did. */
  async deleteOwned(kind: Kind, namespace: string, name: string, ownerUid: string, signal?: AbortSignal): Promise<boolean> {
    const observed = this.cached(kind, namespace, name);
    if (!observed || observed.metadata?.deletionTimestamp) return false;
    if (!observed.metadata?.ownerReferences?.some((r) => r.controller && r.uid === ownerUid)) return false;
    try {
      await this.client.request('DELETE', objectPath(resourceRef(kind, namespace), name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid: observed.metadata.uid } },
        signal,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return true;
  }

  /**
   * Writes `statusOf(object)` through the status subresource unless it equals the current status.
   * On a 409 the object is read again and the status recomputed against it; if its generation
   * moved on meanwhile, the write is dropped (the change queued a newer reconcile).
   * Returns whether a status was written.
   */
  async writeStatus<T extends KubeObject & { status?: unknown }>(
    kind: Kind,
    object: T,
    statusOf: (current: T) => unknown,
    options: { signal?: AbortSignal; attempts?: number; onConflict?: () => void } = {},
  ): Promise<boolean> {
    const namespace = object.metadata?.namespace;
    const name = object.metadata?.name ?? '';
    const path = objectPath(resourceRef(kind, namespace), name);
    let current = object;
    const attempts = options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const status = statusOf(current);
      if (jsonEqual(current.status, status)) return false;
      try {
        await this.client.request('PUT', `${path}/status`, { body: { ...current, apiVersion: kind.apiVersion, kind: kind.kind, status }, signal: options.signal });
        return true;
      } catch (err) {
        if (!isConflict(err) || attempt >= attempts) throw err;
        options.onConflict?.();
        try {
          current = await this.client.request<T>('GET', path, { signal: options.signal });
        } catch (readErr) {
          if (isNotFound(readErr)) return false;
          throw readErr;
        }
        if (current.metadata?.generation !== object.metadata?.generation) return false;
      }
    }
  }
}

