// Admission in front of routing: an adaptive concurrency limit (gradient style) fed by time to
// first byte and upstream overload signals, priority levels, and a bounded queue with a deadline,
// weighted-fair between the priority classes waiting at one level.
// Pure apart from the injected clock, so every decision is unit-tested; wired in http/api-server.ts.

import { FairQueue, type Flow } from './fair-queue.js';

export type Priority = 'critical' | 'standard' | 'sheddable';
const ORDER: readonly Priority[] = ['critical', 'standard', 'sheddable'];
/** Share of the limit only critical requests may use. */
const CRITICAL_RESERVE = 0.1;

export interface AdmissionSettings {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Requests that may wait; beyond it the lowest-priority waiter (or the newcomer) is shed. */
  maxQueue: number;
  /** Longest wait in the queue before a shed. */
  queueTimeoutMs: number;
  /** Retry-After sent with a shed, in seconds. */
  retryAfterSeconds: number;
}

/** queue_displaced: a waiter pushed out of a full queue by a higher-priority newcomer. */
export type ShedReason = 'queue_full' | 'queue_displaced' | 'queue_timeout' | 'sheddable_at_limit';

/** Requests of keys in no priority class share this flow. */
export const UNLISTED_FLOW: Flow = { name: '', weight: 1 };

export interface Permit {
  /** Report how the request went: its time to first byte, or that the upstream said 429/5xx. */
  release(outcome: { ttfbMs?: number; overloaded?: boolean }): void;
}

export type AdmissionDecision =
  | { admitted: true; permit: Permit; waitedMs: number }
  | { admitted: false; status: 503; reason: ShedReason; retryAfterSeconds: number };

export interface AdmissionClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Gradient limit: the limit follows minRtt / smoothedRtt (latency rising above the best seen
 * means queueing upstream), plus a headroom of sqrt(limit) so it can grow when latency is flat.
 * An upstream 429/5xx cuts it by 10 %. Fed by time to first byte, never total stream duration.
 */
export class GradientLimit {
  private current: number;
  private minRtt = Number.POSITIVE_INFINITY;
  private smoothedRtt = 0;

  constructor(private readonly settings: Pick<AdmissionSettings, 'initialLimit' | 'minLimit' | 'maxLimit'>) {
    this.current = settings.initialLimit;
  }

  get limit(): number {
    return Math.floor(this.current);
  }

  sample(rttMs: number): void {
    if (!(rttMs > 0)) return;
    this.minRtt = Math.min(this.minRtt, rttMs);
    this.smoothedRtt = this.smoothedRtt === 0 ? rttMs : this.smoothedRtt * 0.9 + rttMs * 0.1;
    const gradient = Math.max(0.5, Math.min(1, (this.minRtt * 1.5) / this.smoothedRtt));
    const target = this.current * gradient + Math.sqrt(this.current);
    this.set(this.current * 0.8 + target * 0.2);
  }

  overloaded(): void {
    this.set(this.current * 0.9);
  }

  private set(value: number): void {
    this.current = Math.max(this.settings.minLimit, Math.min(this.settings.maxLimit, value));
  }
}

interface Waiter {
  priority: Priority;
  since: number;
  timer: unknown;
  resolve(decision: AdmissionDecision): void;
}

export interface AdmissionSnapshot {
  limit: number;
  inFlight: number;
  queued: Record<Priority, number>;
  shed: Record<ShedReason, number>;
}

export class AdmissionController {
  readonly limiter: GradientLimit;
  private inFlight = 0;
  private readonly queues: Record<Priority, FairQueue<Waiter>> = { critical: new FairQueue(), standard: new FairQueue(), sheddable: new FairQueue() };
  private readonly shedCounts: Record<ShedReason, number> = { queue_full: 0, queue_displaced: 0, queue_timeout: 0, sheddable_at_limit: 0 };

  constructor(
    private readonly settings: AdmissionSettings,
    private readonly clock: AdmissionClock,
  ) {
    this.limiter = new GradientLimit(settings);
  }

  snapshot(): AdmissionSnapshot {
    return {
      limit: this.limiter.limit,
      inFlight: this.inFlight,
      queued: { critical: this.queues.critical.length, standard: this.queues.standard.length, sheddable: this.queues.sheddable.length },
      shed: { ...this.shedCounts },
    };
  }

  /** Admits now, queues, or sheds at once; a queued request resolves when admitted or timed out. */
  acquire(priority: Priority, flow: Flow = UNLISTED_FLOW): Promise<AdmissionDecision> | AdmissionDecision {
    if (this.hasRoom(priority) && !this.waitingAtOrAbove(priority)) return this.admit(0);
    if (priority === 'sheddable') return this.shed('sheddable_at_limit');
    if (this.queued() >= this.settings.maxQueue) {
      const victim = this.lowestBelow(priority);
      if (!victim) return this.shed('queue_full');
      this.drop(victim, 'queue_displaced');
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { priority, since: this.clock.now(), timer: undefined, resolve };
      waiter.timer = this.clock.setTimeout(() => {
        // One more turn of the event loop first: after a stall, timers run before the I/O that
        // frees slots, and a slot freed during the stall should still go to the waiter.
        waiter.timer = this.clock.setTimeout(() => this.drop(waiter, 'queue_timeout'), 0);
      }, this.settings.queueTimeoutMs);
      this.queues[priority].push(waiter, flow);
    });
  }

  /**
   * Critical requests may use the whole limit; the others leave CRITICAL_RESERVE of it free, so a
   * critical request finds a slot at once under overload instead of waiting for one.
   */
  private hasRoom(priority: Priority): boolean {
    const limit = this.limiter.limit;
    return this.inFlight < (priority === 'critical' ? limit : limit - Math.floor(limit * CRITICAL_RESERVE));
  }

  private waitingAtOrAbove(priority: Priority): boolean {
    for (let i = 0; i <= ORDER.indexOf(priority); i++) if (this.queues[ORDER[i]!].length > 0) return true;
    return false;
  }

  /** Requests waiting for admission. */
  queueDepth(): number {
    return this.queued();
  }

  private queued(): number {
    return this.queues.critical.length + this.queues.standard.length + this.queues.sheddable.length;
  }

  /** The waiter served last at the lowest priority below `priority`, if any. */
  private lowestBelow(priority: Priority): Waiter | undefined {
    for (let i = ORDER.length - 1; i > ORDER.indexOf(priority); i--) {
      const waiter = this.queues[ORDER[i]!].last();
      if (waiter) return waiter;
    }
    return undefined;
  }

  private drop(waiter: Waiter, reason: ShedReason): void {
    if (!this.queues[waiter.priority].remove(waiter)) return;
    this.clock.clearTimeout(waiter.timer);
    waiter.resolve(this.shed(reason));
  }

  private shed(reason: ShedReason): AdmissionDecision {
    this.shedCounts[reason]++;
    return { admitted: false, status: 503, reason, retryAfterSeconds: this.settings.retryAfterSeconds };
  }

  private admit(waitedMs: number): AdmissionDecision {
    this.inFlight++;
    let released = false;
    const permit: Permit = {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.inFlight--;
        if (outcome.overloaded) this.limiter.overloaded();
        else if (outcome.ttfbMs !== undefined) this.limiter.sample(outcome.ttfbMs);
        this.pump();
      },
    };
    return { admitted: true, permit, waitedMs };
  }

  /** Admits queued requests, highest priority first (weighted-fair within one), while there is room under the limit. */
  private pump(): void {
    for (;;) {
      const priority = ORDER.find((p) => this.queues[p].length > 0);
      if (priority === undefined || !this.hasRoom(priority)) return;
      const waiter = this.queues[priority].shift()!;
      this.clock.clearTimeout(waiter.timer);
      waiter.resolve(this.admit(this.clock.now() - waiter.since));
    }
  }
}
