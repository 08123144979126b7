import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { FakeClock, settle } from './clock.js';
import { Controller, controllerOwnerKeys } from './controller.js';
import { Informer, type ListResult, type ListWatcher, type WatchEvent } from './informer.js';
import type { KubeObject } from './kube.js';

/** Lists once, then keeps one watch open through which the test sends events. */
class ScriptedSource implements ListWatcher<KubeObject> {
  send: (e: WatchEvent<KubeObject>) => void = () => {};
  constructor(private readonly initial: KubeObject[]) {}
  async list(): Promise<ListResult<KubeObject>> {
    return { items: this.initial, resourceVersion: '1' };
  }
  watch(_rv: string, h: { onOpen(): void; onEvent(e: WatchEvent<KubeObject>): void }, signal: AbortSignal): Promise<void> {
    h.onOpen();
    this.send = h.onEvent;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
}

const obj = (name: string, rv: string, owner?: string): KubeObject => ({
  metadata: {
    name,
    namespace: 'ns',
    resourceVersion: rv,
    ownerReferences: owner ? [{ apiVersion: 'example.dev/v1', kind: 'Widget', name: owner, uid: 'u', controller: true }] : undefined,
  },
});

describe('Controller', () => {
  it('reconciles every existing object once synced, then each change; owned objects map to their owner', async () => {
    const clock = new FakeClock();
    const widgets = new ScriptedSource([obj('w1', '1'), obj('w2', '2')]);
    const children = new ScriptedSource([obj('w1-child', '3', 'w1')]);
    const wi = new Informer(widgets, { name: 'widgets', clock });
    const ci = new Informer(children, { name: 'children', clock });
    const seen: string[] = [];
    const c = new Controller({
      name: 'widget',
      clock,
      reconcile: async (key) => {
        seen.push(key);
      },
    })
      .for(wi)
      .owns(ci, { kind: 'Widget', apiVersion: 'example.dev/v1' });
    const running = c.start();
    wi.start();
    ci.start();
    await settle();
    expect(seen.sort()).toEqual(['ns/w1', 'ns/w2']); // w1 queued twice (itself and its child) but merged
    seen.length = 0;
    children.send({ type: 'MODIFIED', object: obj('w1-child', '4', 'w1') });
    await settle();
    widgets.send({ type: 'ADDED', object: obj('w3', '5') });
    await settle();
    expect(seen).toEqual(['ns/w1', 'ns/w3']);
    await c.stop();
    await running;
    await Promise.all([wi.stop(), ci.stop()]);
  });

  it('retries a throwing reconcile with growing backoff, honours requeueAfter, and counts results', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const src = new ScriptedSource([obj('w', '1')]);
    const inf = new Informer(src, { name: 'widgets', clock });
    const calls: Array<{ at: number; retries: number }> = [];
    const c = new Controller({
      name: 'widget',
      clock,
      registry,
      queue: { baseDelayMs: 100, maxDelayMs: 10_000, qps: 1e6, burst: 1e6 },
      reconcile: async (_key, ctx) => {
        calls.push({ at: clock.now() - 1_000_000, retries: ctx.retries });
        if (calls.length <= 3) throw new Error('not yet');
        if (calls.length === 4) return { requeueAfter: 5_000 };
      },
    }).for(inf);
    const running = c.start();
    inf.start();
    await clock.advance(20_000);
    expect(calls).toEqual([
      { at: 0, retries: 0 },
      { at: 100, retries: 1 },
      { at: 300, retries: 2 },
      { at: 700, retries: 3 },
      { at: 5_700, retries: 0 }, // requeueAfter; the success forgot the failures
    ]);
    const text = await registry.metrics();
    expect(text).toContain('switchboard_operator_reconcile_total{controller="widget",result="error"} 3');
    expect(text).toContain('switchboard_operator_reconcile_total{controller="widget",result="requeue"} 1');
    expect(text).toContain('switchboard_operator_reconcile_total{controller="widget",result="success"} 1');
    expect(text).toContain('switchboard_operator_reconcile_errors_total{controller="widget"} 3');
    expect(text).toContain('switchboard_operator_reconcile_duration_seconds_count{controller="widget"} 5');
    expect(text).toContain('switchboard_operator_workqueue_depth{name="widget"} 0');
    await c.stop();
    await running;
    await inf.stop();
  });

  it('aborts the signal of running reconciles on stop and runs no more', async () => {
    const clock = new FakeClock();
    const inf = new Informer(new ScriptedSource([obj('a', '1'), obj('b', '2')]), { name: 'x', clock });
    let aborted = false;
    let calls = 0;
    const c = new Controller({
      name: 'x',
      workers: 1,
      clock,
      reconcile: (_key, ctx) =>
        new Promise<void>((resolve) => {
          calls++;
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    }).for(inf);
    const running = c.start();
    inf.start();
    await settle();
    await c.stop();
    await running;
    expect(aborted).toBe(true);
    expect(calls).toBe(1);
    await inf.stop();
  });
});

describe('controllerOwnerKeys', () => {
  it('maps only controlling owners of the selected kind and group', () => {
    const o: KubeObject = {
      metadata: {
        name: 'c',
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'example.dev/v1', kind: 'Widget', name: 'w', uid: '1', controller: true },
          { apiVersion: 'example.dev/v1', kind: 'Widget', name: 'not-controller', uid: '2' },
          { apiVersion: 'other.dev/v1', kind: 'Widget', name: 'other-group', uid: '3', controller: true },
        ],
      },
    };
    expect(controllerOwnerKeys(o, { kind: 'Widget', apiVersion: 'example.dev/v1alpha1' })).toEqual(['ns/w']);
    expect(controllerOwnerKeys(o, { kind: 'Widget' })).toEqual(['ns/w', 'ns/other-group']);
    expect(controllerOwnerKeys(o, { kind: 'Gadget' })).toEqual([]);
  });
});
