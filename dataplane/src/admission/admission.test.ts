import { describe, expect, it } from '@jest/globals';
import { AdmissionController, GradientLimit, type AdmissionClock, type AdmissionDecision, type AdmissionSettings } from './admission.js';

function fakeClock(): AdmissionClock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  return {
    now: () => now,
    setTimeout(fn, ms) {
      timers.push({ at: now + ms, fn, id: ++ids });
      return ids;
    },
    clearTimeout(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    advance(ms) {
      now += ms;
      // Timers set by due timers run too when they are due.
      for (let due = timers.filter((t) => t.at <= now); due.length > 0; due = timers.filter((t) => t.at <= now)) {
        timers = timers.filter((t) => t.at > now);
        due.forEach((t) => t.fn());
      }
    },
  };
}

const settings: AdmissionSettings = { initialLimit: 2, minLimit: 1, maxLimit: 100, maxQueue: 2, queueTimeoutMs: 1000, retryAfterSeconds: 1 };

function admitted(decision: AdmissionDecision | Promise<AdmissionDecision>): Extract<AdmissionDecision, { admitted: true }> {
  if (decision instanceof Promise || !decision.admitted) throw new Error('expected an immediate admission');
  return decision;
}

describe('AdmissionController', () => {
  it('admits under the limit and queues above it, admitting waiters as permits are released', async () => {
    const clock = fakeClock();
    const admission = new AdmissionController(settings, clock);
    const a = admitted(admission.acquire('standard'));
    admitted(admission.acquire('standard'));
    const waiting = admission.acquire('standard');
    expect(waiting).toBeInstanceOf(Promise);
    expect(admission.snapshot().queued.standard).toBe(1);
    clock.advance(200);
    a.permit.release({});
    const decision = await waiting;
    expect(decision).toMatchObject({ admitted: true, waitedMs: 200 });
  });

  it('sheds sheddable requests at once when at the limit', () => {
    const admission = new AdmissionController(settings, fakeClock());
    admission.acquire('standard');
    admission.acquire('standard');
    expect(admission.acquire('sheddable')).toEqual({ admitted: false, status: 503, reason: 'sheddable_at_limit', retryAfterSeconds: 1 });
  });

  it('sheds a queued request at its deadline with Retry-After', async () => {
    const clock = fakeClock();
    const admission = new AdmissionController(settings, clock);
    admission.acquire('standard');
    admission.acquire('standard');
    const waiting = admission.acquire('standard');
    clock.advance(1000);
    expect(await waiting).toEqual({ admitted: false, status: 503, reason: 'queue_timeout', retryAfterSeconds: 1 });
    expect(admission.snapshot().shed.queue_timeout).toBe(1);
  });

  it('when the queue is full, a critical request displaces the newest standard one; a standard one is shed', async () => {
    const clock = fakeClock();
    const admission = new AdmissionController(settings, clock);
    const first = admitted(admission.acquire('standard'));
    admission.acquire('standard');
    admission.acquire('standard');
    const s2 = admission.acquire('standard');
    expect(admission.acquire('standard')).toMatchObject({ admitted: false, reason: 'queue_full' });
    const critical = admission.acquire('critical');
    expect(await s2).toMatchObject({ admitted: false, reason: 'queue_displaced' });
    first.permit.release({});
    expect(await critical).toMatchObject({ admitted: true });
    expect(admission.snapshot().queued).toEqual({ critical: 0, standard: 1, sheddable: 0 });
  });
});

describe('weighted fair dequeueing between priority classes', () => {
  it('shares freed slots among the classes waiting at one level by weight; a higher level still goes first', async () => {
    const clock = fakeClock();
    const admission = new AdmissionController({ ...settings, initialLimit: 1, maxQueue: 100 }, clock);
    const served: string[] = [];
    const wait = (priority: 'critical' | 'standard', flow: { name: string; weight: number }): void => {
      void Promise.resolve(admission.acquire(priority, flow)).then((d) => {
        if (!d.admitted) throw new Error('expected admission');
        served.push(flow.name);
        d.permit.release({});
      });
    };
    const holder = admitted(admission.acquire('critical'));
    for (let i = 0; i < 12; i++) {
      wait('standard', { name: 'interactive', weight: 2 });
      wait('standard', { name: 'batch', weight: 1 });
    }
    wait('critical', { name: 'checkout', weight: 1 });
    holder.permit.release({});
    for (let i = 0; i < 100 && served.length < 13; i++) await Promise.resolve();
    expect(served[0]).toBe('checkout');
    const standard = served.slice(1, 13);
    expect(standard.filter((n) => n === 'interactive')).toHaveLength(8);
    expect(standard.filter((n) => n === 'batch')).toHaveLength(4);
  });
});

describe('queue deadline after a stall', () => {
  it('gives a slot freed before the deadline timer ran to the waiter instead of shedding it', async () => {
    const clock = fakeClock();
    const admission = new AdmissionController(settings, clock);
    const busy = admitted(admission.acquire('standard'));
    admitted(admission.acquire('standard'));
    const waiting = admission.acquire('standard');
    // The deadline timer fires, but a permit comes back in the same turn (I/O after a stall).
    clock.setTimeout(() => busy.permit.release({}), 1000);
    clock.advance(1000);
    expect(await waiting).toMatchObject({ admitted: true, waitedMs: 1000 });
    expect(admission.snapshot().shed.queue_timeout).toBe(0);
  });
});

describe('critical reserve', () => {
  it('keeps a tenth of the limit for critical requests: others queue or shed before it is used', async () => {
    const clock = fakeClock();
    const admission = new AdmissionController({ ...settings, initialLimit: 10, maxLimit: 10, maxQueue: 1 }, clock);
    const standard = Array.from({ length: 9 }, () => admitted(admission.acquire('standard')));
    expect(admission.acquire('sheddable')).toMatchObject({ admitted: false, reason: 'sheddable_at_limit' });
    const waiting = admission.acquire('standard');
    expect(waiting).toBeInstanceOf(Promise);
    // The tenth slot goes to a critical request at once, ahead of the queued standard one.
    admitted(admission.acquire('critical'));
    expect(admission.snapshot()).toMatchObject({ inFlight: 10, queued: { standard: 1 } });
    // 9 in flight after one ends: still inside the reserve, so the standard request keeps waiting.
    standard[0]!.permit.release({});
    expect(admission.snapshot().queued.standard).toBe(1);
    standard[1]!.permit.release({});
    expect(await waiting).toMatchObject({ admitted: true });
  });
});

describe('GradientLimit', () => {
  it('grows while time to first byte stays flat and shrinks when it rises or the upstream is overloaded', () => {
    const limit = new GradientLimit({ initialLimit: 10, minLimit: 2, maxLimit: 1000 });
    for (let i = 0; i < 50; i++) limit.sample(100);
    const grown = limit.limit;
    expect(grown).toBeGreaterThan(10);
    for (let i = 0; i < 100; i++) limit.sample(1000);
    expect(limit.limit).toBeLessThan(grown);
    const before = limit.limit;
    limit.overloaded();
    expect(limit.limit).toBeLessThan(before);
    for (let i = 0; i < 200; i++) limit.overloaded();
    expect(limit.limit).toBe(2);
  });
});
