import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { FakeClock, settle } from './clock.js';
import { TokenBucket, WorkQueue } from './queue.js';

const fast = { qps: 1e6, burst: 1e6 };

describe('WorkQueue', () => {
  it('stores a key added several times while queued once', async () => {
    const q = new WorkQueue({ name: 't', clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('processes a key re-added while processing once more after done(), never in parallel', async () => {
    const q = new WorkQueue({ name: 't', clock: new FakeClock() });
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // not handed out again while processing
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('never runs one key on two workers at once', async () => {
    const q = new WorkQueue({ name: 't', clock: new FakeClock() });
    const active = new Map<string, number>();
    let maxActive = 0;
    let runs = 0;
    const release: Array<() => void> = [];
    const done = q.run(4, async (key) => {
      runs++;
      active.set(key, (active.get(key) ?? 0) + 1);
      maxActive = Math.max(maxActive, active.get(key)!);
      await new Promise<void>((r) => release.push(r));
      active.set(key, active.get(key)! - 1);
    });
    q.add('a');
    await settle();
    for (let i = 0; i < 5; i++) q.add('a');
    await settle();
    expect(runs).toBe(1);
    release.shift()!();
    await settle();
    expect(runs).toBe(2); // the five re-adds merged into one more run
    release.shift()!();
    await settle();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
    q.shutDown();
    await done;
  });

  it('hands different keys to different workers concurrently', async () => {
    const q = new WorkQueue({ name: 't', clock: new FakeClock() });
    let active = 0;
    let maxActive = 0;
    const release: Array<() => void> = [];
    const done = q.run(3, async () => {
      maxActive = Math.max(maxActive, ++active);
      await new Promise<void>((r) => release.push(r));
      active--;
    });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await settle();
    expect(maxActive).toBe(3);
    expect(q.len()).toBe(1);
    q.shutDown();
    for (const r of release.splice(0)) r();
    await done;
  });

  it('backs a failing key off exponentially up to the maximum, and forget() resets it', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock, baseDelayMs: 10, maxDelayMs: 100, ...fast });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      q.addRateLimited('a');
      const start = clock.now();
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.now() - start);
      expect(await q.get()).toBe('a');
      q.done('a');
    }
    expect(delays).toEqual([10, 20, 40, 80, 100, 100]);
    expect(q.numRequeues('a')).toBe(6);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    q.addRateLimited('a');
    await clock.advance(9);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it('spaces retries of many keys by the global token bucket', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock, baseDelayMs: 1, maxDelayMs: 1, qps: 10, burst: 2 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.addRateLimited(k);
    await clock.advance(1);
    expect(q.len()).toBe(2); // the burst
    await clock.advance(99);
    expect(q.len()).toBe(3);
    await clock.advance(100);
    expect(q.len()).toBe(4);
    await clock.advance(100);
    expect(q.len()).toBe(5);
  });

  it('keeps the earliest of several delayed adds of one key', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock });
    q.addAfter('a', 500);
    q.addAfter('a', 100);
    q.addAfter('a', 300);
    await clock.advance(100);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    await clock.advance(1000);
    expect(q.len()).toBe(0);
  });

  it('stops on shutDown(): queued keys dropped, waiting get() returns undefined, in-flight work finishes', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock });
    const seen: string[] = [];
    let release!: () => void;
    const done = q.run(1, async (key) => {
      seen.push(key);
      await new Promise<void>((r) => (release = r));
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 10);
    await settle();
    q.shutDown();
    q.add('d');
    let finished = false;
    void done.then(() => (finished = true));
    await settle();
    expect(finished).toBe(false); // 'a' still running
    release();
    await done;
    await clock.advance(100);
    expect(seen).toEqual(['a']);
    expect(await q.get()).toBeUndefined();
  });

  it('drains on shutDownWithDrain(): queued keys still processed, new adds refused', async () => {
    const q = new WorkQueue({ name: 't', clock: new FakeClock() });
    const seen: string[] = [];
    const running = q.run(2, async (key) => {
      seen.push(key);
      await settle(1);
    });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    const drained = q.shutDownWithDrain();
    q.add('late');
    await drained;
    await running;
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reports depth, adds, retries and work duration', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const q = new WorkQueue({ name: 'm', clock, registry, ...fast });
    q.add('a');
    q.add('a');
    q.add('b');
    let text = await registry.metrics();
    expect(text).toContain('switchboard_operator_workqueue_depth{name="m"} 2');
    expect(text).toContain('switchboard_operator_workqueue_adds_total{name="m"} 3');
    const release: Array<() => void> = [];
    const running = q.run(1, () => new Promise<void>((r) => release.push(r)));
    for (let i = 0; i < 2; i++) {
      await clock.advance(20);
      release.shift()!();
      await settle();
    }
    q.addRateLimited('c');
    await clock.advance(100);
    release.shift()!();
    await settle();
    q.shutDown();
    await running;
    text = await registry.metrics();
    expect(text).toContain('switchboard_operator_workqueue_retries_total{name="m"} 1');
    expect(text).toMatch(/switchboard_operator_workqueue_work_duration_seconds_count\{name="m"\} 3/);
    // 20 ms, 20 ms, then 'c' held while the clock ran on 95 ms
    expect(text).toMatch(/switchboard_operator_workqueue_work_duration_seconds_bucket\{le="0.01",name="m"\} 0\n/);
    expect(text).toMatch(/switchboard_operator_workqueue_work_duration_seconds_bucket\{le="0.025",name="m"\} 2\n/);
    expect(text).toMatch(/switchboard_operator_workqueue_work_duration_seconds_bucket\{le="0.1",name="m"\} 3\n/);
    expect(text).toContain('switchboard_operator_workqueue_depth{name="m"} 0');
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then one token per 1/qps, refilling up to the burst', async () => {
    const clock = new FakeClock();
    const b = new TokenBucket(5, 3, clock);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect(b.reserve()).toBeCloseTo(200);
    expect(b.reserve()).toBeCloseTo(400);
    await clock.advance(10_000);
    expect([b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 0]);
    expect(b.reserve()).toBeCloseTo(200);
  });
});
