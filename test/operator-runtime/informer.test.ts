// The runtime's informer and manager against a real kube-apiserver (test/cluster): ConfigMap
// add/update/delete arrive through list+watch, and after the apiserver restarts the informer
// re-lists, /readyz goes from 503 back to 200, and later changes are seen again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { Informer, KubeClient, Manager, resourceListWatcher, type KubeObject } from '../../operator/src/runtime/index.js';

const TIMEOUT = 120_000;
const NS = 'sb-runtime-informer';

type ConfigMap = KubeObject & { data?: Record<string, string> };

const configMap = (name: string, value: string): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data: { value } });

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('informer on a real kube-apiserver', () => {
  let cluster: Cluster;
  let client: KubeClient;
  let informer: Informer<ConfigMap>;
  let manager: Manager;
  const events: string[] = [];

  const kubectl = async (args: string[], input?: string): Promise<void> => {
    const r = await cluster.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  };

  beforeAll(async () => {
    cluster = await startCluster();
    await kubectl(['create', 'namespace', NS]);
    client = KubeClient.fromFile(cluster.kubeconfigPath);
    manager = new Manager({ port: 0, host: '127.0.0.1', leaderElection: false, watchDownToleranceMs: 0 });
    informer = new Informer<ConfigMap>(resourceListWatcher(client, { apiVersion: 'v1', plural: 'configmaps', namespace: NS }), {
      name: 'configmaps',
      registry: manager.registry,
      backoff: { baseMs: 200, maxMs: 2_000, jitter: 0.2 },
    });
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata?.name} ${o.data?.value ?? ''}`),
      onUpdate: (_a, b) => events.push(`update ${b.metadata?.name} ${b.data?.value ?? ''}`),
      onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    manager.addInformer(informer);
    await manager.start();
  }, TIMEOUT);

  afterAll(async () => {
    await manager?.stop();
    await cluster?.stop();
  }, TIMEOUT);

  const readyz = async (): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${manager.port}/readyz`);
    await res.text();
    return res.status;
  };

  it('sees ConfigMaps added, updated and deleted', async () => {
    await waitFor('sync', () => informer.hasSynced());
    await waitFor('watch', () => informer.health().watching);
    expect(await readyz()).toBe(200);

    await kubectl(['apply', '-f', '-'], configMap('one', 'v1'));
    await waitFor('add', () => events.includes('add one v1'));
    expect(informer.get(`${NS}/one`)).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { value: 'v1' } });

    await kubectl(['apply', '-f', '-'], configMap('one', 'v2'));
    await waitFor('update', () => events.includes('update one v2'));
    expect(informer.get(`${NS}/one`)?.data?.value).toBe('v2');

    await kubectl(['delete', 'configmap', 'one', '-n', NS]);
    await waitFor('delete', () => events.includes('delete one'));
    expect(informer.get(`${NS}/one`)).toBeUndefined();
    expect(informer.health()).toMatchObject({ synced: true, watching: true, lists: 1 });

    const metrics = await (await fetch(`http://127.0.0.1:${manager.port}/metrics`)).text();
    expect(metrics).toContain('switchboard_operator_informer_watching{informer="configmaps"} 1');
  }, TIMEOUT);

  it('recovers after the apiserver restarts: readiness drops, then the watch is back and later changes arrive', async () => {
    const listsBefore = informer.health().lists;
    const seen = { notWatching: false, notReady: false };
    let polling = true;
    const poller = (async () => {
      while (polling) {
        if (!informer.health().watching) seen.notWatching = true;
        try {
          if ((await readyz()) === 503) seen.notReady = true;
        } catch {
          /* the probe port is ours and stays up */
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    await cluster.restartApiserver();
    await kubectl(['apply', '-f', '-'], configMap('after-restart', 'x'));
    await waitFor('the change made after the restart', () => events.includes('add after-restart x'), 60_000);
    await waitFor('watch re-established', () => informer.health().watching, 60_000);
    await waitFor('ready again', async () => (await readyz()) === 200);
    polling = false;
    await poller;

    expect(seen).toEqual({ notWatching: true, notReady: true });
    const h = informer.health();
    expect(h.lists).toBeGreaterThan(listsBefore); // re-listed after the watch error
    expect(h).toMatchObject({ synced: true, watching: true });
    expect(await readyz()).toBe(200);

    await kubectl(['apply', '-f', '-'], configMap('after-restart', 'y'));
    await waitFor('a later update', () => events.includes('update after-restart y'));
  }, TIMEOUT);
});
