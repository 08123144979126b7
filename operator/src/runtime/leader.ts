// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package:
// acquire or renew with optimistic concurrency (the update carries the resourceVersion read), judge
// another holder's lease by when *we* saw it change (immune to clock skew between nodes), give up
// leadership when renewals fail for renewDeadline, and release on a graceful stop so a successor
// takes over at once.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Registry } from 'prom-client';
import { realClock, sleep, timeoutSignal, type Clock } from './clock.js';
import { isConflict, isNotFound, KubeApiError, objectPath, type KubeClient } from './kube.js';
import { errorMessage, silentLogger, type Logger } from './logger.js';
import { gauge } from './metrics.js';

/** The fields of a Lease's spec that leader election uses (times are RFC 3339 strings). */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseRecord {
  resourceVersion: string;
  spec: LeaseSpec;
  /** The object as read, so an update keeps its labels and annotations. */
  object?: unknown;
}

/** The API boundary of leader election (real: kubeLeaseClient; tests: a small fake). */
export interface LeaseClient {
  /** The lease, or undefined if it does not exist. */
  get(signal: AbortSignal): Promise<LeaseRecord | undefined>;
  /** Creates the lease; rejects with a 409 KubeApiError if it exists. */
  create(spec: LeaseSpec, signal: AbortSignal): Promise<LeaseRecord>;
  /** Replaces the spec if the lease is still at `resourceVersion`; rejects with 409 otherwise. */
  update(record: LeaseRecord, signal: AbortSignal): Promise<LeaseRecord>;
  /** For logs: namespace/name. */
  readonly description: string;
}

export interface LeaderCallbacks {
  /** Became leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Leadership ended (lost, or released on stop); called once per onStartedLeading. */
  onStoppedLeading(): void;
  /** The observed holder changed (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions {
  lease: LeaseClient;
  /** Unique per process. Default: hostname + random suffix. */
  identity?: string;
  /** How long a lease is valid without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it cannot renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Between acquire attempts and between renewals. Default 2 s. */
  retryPeriodMs?: number;
  /** Acquire attempts wait retryPeriod * (1 + jitter * random). Default 0.2. */
  jitter?: number;
  /** On a graceful stop, hand the lease back (empty holder, 1 s duration). Default true. */
  releaseOnStop?: boolean;
  callbacks: LeaderCallbacks;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  registry?: Registry;
  /** For the `lease` metric label. Default lease.description. */
  name?: string;
}

export function defaultIdentity(): string {
  return `${os.hostname()}_${randomUUID().slice(0, 8)}`;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private readonly lease: LeaseClient;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly jitter: number;
  private readonly releaseOnStop: boolean;
  private readonly callbacks: LeaderCallbacks;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly metric;
  private readonly metricName: string;

  private observed: LeaseRecord | undefined;
  private observedRaw = '';
  private observedAt = 0;
  private reportedLeader: string | undefined;
  private leading = false;
  private leaderAbort: AbortController | undefined;
  private stopAbort = new AbortController();
  private release = true;
  private running: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.lease = options.lease;
    this.identity = options.identity ?? defaultIdentity();
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.jitter = options.jitter ?? 0.2;
    this.releaseOnStop = options.releaseOnStop ?? true;
    this.callbacks = options.callbacks;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > this.retryPeriodMs * (1 + this.jitter))) throw new Error('renewDeadline must be greater than retryPeriod * (1 + jitter)');
    this.metricName = options.name ?? this.lease.description;
    this.metric = options.registry && gauge(options.registry, { name: 'leader_is_leader', help: '1 while this process holds the lease.', labelNames: ['lease'] });
    this.metric?.set({ lease: this.metricName }, 0);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen on the lease ('' if released or unknown). */
  leader(): string {
    return this.observed?.spec.holderIdentity ?? '';
  }

  /** Campaigns until leader, leads until leadership is lost or stop() is called, then resolves.
   *  An elector runs once: after losing leadership the process should stop its controllers (and
   *  usually exit) rather than campaign again with possibly stale state. */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Stops campaigning or leading. With release (default: releaseOnStop) the lease is handed
   *  back so a successor takes over at once; release: false simulates a crash (the lease runs out). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.release = options.release ?? this.releaseOnStop;
    this.stopAbort.abort();
    await this.running;
  }

  private async campaign(): Promise<void> {
    const stop = this.stopAbort.signal;
    this.log.info({ lease: this.lease.description, identity: this.identity }, 'campaigning for leadership');
    // Acquire.
    while (!stop.aborted) {
      const outcome = await this.tryAcquireOrRenew(stop);
      if (outcome === 'ok') break;
      await sleep(this.clock, this.nextAcquireDelay(), stop);
    }
    if (stop.aborted) return;
    this.startLeading();
    // Renew.
    let lastRenew = this.clock.now();
    let lostReason: string | undefined;
    while (!stop.aborted) {
      await sleep(this.clock, this.retryPeriodMs, stop);
      if (stop.aborted) break;
      const remaining = lastRenew + this.renewDeadlineMs - this.clock.now();
      const outcome = remaining > 0 ? await this.tryAcquireOrRenew(stop, remaining) : 'failed';
      if (stop.aborted) break;
      if (outcome === 'ok') {
        lastRenew = this.clock.now();
        continue;
      }
      if (outcome === 'held') {
        lostReason = `lease taken by ${this.leader()}`;
        break;
      }
      if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        lostReason = `could not renew for ${this.renewDeadlineMs} ms`;
        break;
      }
    }
    if (lostReason !== undefined) {
      this.log.error({ lease: this.lease.description, identity: this.identity, reason: lostReason }, 'leadership lost');
    } else if (this.release) {
      await this.releaseLease();
    }
    this.stopLeading();
  }

  /** client-go's tryAcquireOrRenew. 'held' = someone else holds a valid lease. */
  private async tryAcquireOrRenew(stop: AbortSignal, timeoutMs = this.renewDeadlineMs): Promise<'ok' | 'held' | 'failed'> {
    const { signal, dispose } = timeoutSignal(this.clock, timeoutMs, stop);
    try {
      const now = this.clock.now();
      const current = await this.lease.get(signal);
      if (!current) {
        const created = await this.lease.create(
          { holderIdentity: this.identity, leaseDurationSeconds: this.leaseSeconds(), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
          signal,
        );
        this.observe(created);
        return 'ok';
      }
      this.observe(current);
      const holder = current.spec.holderIdentity ?? '';
      const durationMs = (current.spec.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
      if (holder !== '' && holder !== this.identity && this.observedAt + durationMs > this.clock.now()) return 'held';
      const mine = holder === this.identity;
      const at = this.clock.now();
      const spec: LeaseSpec = {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseSeconds(),
        acquireTime: mine && current.spec.acquireTime ? current.spec.acquireTime : microTime(at),
        renewTime: microTime(at),
        leaseTransitions: (current.spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      };
      this.observe(await this.lease.update({ ...current, spec }, signal));
      return 'ok';
    } catch (err) {
      if (!stop.aborted) {
        const level = isConflict(err) ? 'debug' : 'warn';
        this.log[level]({ lease: this.lease.description, identity: this.identity, err: errorMessage(err), leading: this.leading }, 'lease acquire/renew failed');
      }
      return 'failed';
    } finally {
      dispose();
    }
  }

  /** Poll at retryPeriod, but also right when the lease we watch would expire. */
  private nextAcquireDelay(): number {
    const base = this.retryPeriodMs * (1 + this.jitter * this.random());
    const holder = this.observed?.spec.holderIdentity ?? '';
    if (!holder || holder === this.identity) return base;
    const durationMs = (this.observed?.spec.leaseDurationSeconds ?? this.leaseSeconds()) * 1000;
    const untilExpiry = this.observedAt + durationMs - this.clock.now() + 1;
    return Math.max(1, Math.min(base, untilExpiry));
  }

  private observe(record: LeaseRecord): void {
    const raw = JSON.stringify(record.spec);
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedAt = this.clock.now();
    }
    this.observed = record;
    const holder = record.spec.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      this.log.info({ lease: this.lease.description, leader: holder, self: holder === this.identity }, 'new leader observed');
      try {
        this.callbacks.onNewLeader?.(holder);
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'onNewLeader threw');
      }
    }
  }

  private async releaseLease(): Promise<void> {
    const current = this.observed;
    if (!current || current.spec.holderIdentity !== this.identity) return;
    const { signal, dispose } = timeoutSignal(this.clock, this.renewDeadlineMs);
    try {
      const now = microTime(this.clock.now());
      await this.lease.update(
        {
          ...current,
          spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.spec.leaseTransitions ?? 0 },
        },
        signal,
      );
      this.log.info({ lease: this.lease.description, identity: this.identity }, 'lease released');
    } catch (err) {
      this.log.warn({ lease: this.lease.description, err: errorMessage(err) }, 'could not release the lease; it will expire');
    } finally {
      dispose();
    }
  }

  private leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
  }

  private startLeading(): void {
    this.leading = true;
    this.leaderAbort = new AbortController();
    this.metric?.set({ lease: this.metricName }, 1);
    this.log.info({ lease: this.lease.description, identity: this.identity }, 'started leading');
    try {
      this.callbacks.onStartedLeading(this.leaderAbort.signal);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'onStartedLeading threw');
    }
  }

  private stopLeading(): void {
    if (!this.leading) return;
    this.leading = false;
    this.leaderAbort?.abort();
    this.metric?.set({ lease: this.metricName }, 0);
    this.log.info({ lease: this.lease.description, identity: this.identity }, 'stopped leading');
    try {
      this.callbacks.onStoppedLeading();
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'onStoppedLeading threw');
    }
  }
}

interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

const LEASES = (namespace: string) => ({ apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespace });

/** The real LeaseClient for the Lease `namespace/name`. */
export function kubeLeaseClient(client: KubeClient, namespace: string, name: string): LeaseClient {
  const ref = LEASES(namespace);
  const toRecord = (obj: LeaseObject): LeaseRecord => {
    const rv = obj.metadata?.resourceVersion;
    if (!rv) throw new KubeApiError(500, undefined, `lease ${namespace}/${name} has no resourceVersion`);
    return { resourceVersion: rv, spec: obj.spec ?? {}, object: obj };
  };
  return {
    description: `${namespace}/${name}`,
    async get(signal) {
      try {
        return toRecord(await client.request<LeaseObject>('GET', objectPath(ref, name), { signal }));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async create(spec, signal) {
      const body: LeaseObject = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec };
      return toRecord(await client.request<LeaseObject>('POST', `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`, { body, signal }));
    },
    async update(record, signal) {
      const read = (record.object ?? {}) as LeaseObject;
      const body: LeaseObject = {
        ...read,
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { ...read.metadata, name, namespace, resourceVersion: record.resourceVersion },
        spec: { ...read.spec, ...record.spec },
      };
      return toRecord(await client.request<LeaseObject>('PUT', objectPath(ref, name), { body, signal }));
    },
  };
}
