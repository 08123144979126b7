// The Kubernetes config source on a real kube-apiserver (test/cluster) with a real gateway
// in-process and the real mock upstream: ConfigMap changes are served (each within a generous 5 s;
// the apply -> serving latency target lives in bench/hot-reload) and reported on the Pod
// annotation; invalid updates and missing Secrets are rejected while the last good config keeps
// serving; a rotated Secret key applies without a restart; and an apiserver restart neither
// interrupts traffic nor ends the watch.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { pino } from 'pino';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { startGateway, type RunningGateway } from '../../dataplane/src/gateway.js';
import { KubeConfigSource } from '../../dataplane/src/config/kube-source.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { credentialFingerprint, MASTER_KEY, metricValue, mockStats, readiness, startTestMock, waitFor } from '../support/stack.js';
import { configMap, kubectlOf, liveConfig, percentile, pod, podAnnotation, secret, SECRET, type Kubectl } from './support.js';

const NS = 'sb-dataplane-kube';
const CM = 'gw-runtime';
const POD = 'gw-0';
const TIMEOUT = 180_000;

let cluster: Cluster;
let kubectl: Kubectl;
let mock: MockServer;
let gw: RunningGateway;
let client: OpenAI;

const hi = [{ role: 'user' as const, content: 'hi' }];

async function call(): Promise<{ status: number; deployment: string | null; hash: string | null }> {
  const res = await client.chat.completions.create({ model: 'live', messages: hi }).asResponse();
  return { status: res.status, deployment: res.headers.get('x-switchboard-deployment'), hash: res.headers.get('x-switchboard-config-hash') };
}

const applyConfig = (config: Parameters<typeof configMap>[2]): Promise<string> => kubectl(['apply', '-f', '-'], configMap(NS, CM, config));
const reloads = (result: string): Promise<number> => metricValue(gw.adminUrl, 'switchboard_config_reloads_total', { result });

async function lastCredential(model: string): Promise<string | null | undefined> {
  return (await mockStats(mock)).recent.filter((r) => r.model === model).at(-1)?.credential;
}

beforeAll(async () => {
  cluster = await startCluster();
  kubectl = kubectlOf(cluster);
  mock = await startTestMock(null);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(['apply', '-f', '-'], secret(NS, SECRET, 'sk-key-one'));
  await kubectl(['apply', '-f', '-'], pod(NS, POD));
  await applyConfig(liveConfig(mock, 'live-0'));
  gw = await startGateway({
    configMap: { name: CM, namespace: NS, kubeconfigPath: cluster.kubeconfigPath, pod: { namespace: NS, name: POD } },
    port: 0,
    adminPort: 0,
    env: { SWITCHBOARD_MASTER_KEY: MASTER_KEY },
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
}, TIMEOUT);

afterAll(async () => {
  await gw?.close(1000);
  await mock?.close();
  await cluster?.stop();
}, TIMEOUT);

describe('Kubernetes config source', () => {
  it('serves the ConfigMap config at start and reports its hash on the Pod', async () => {
    const first = await call();
    expect(first).toMatchObject({ status: 200, deployment: 'live-0' });
    expect(first.hash).toBe((await readiness(gw.adminUrl)).configHash);
    await waitFor('the pod annotation', async () => ((await podAnnotation(kubectl, NS, POD)) === first.hash ? true : undefined), 10_000);
    expect(await lastCredential('live-0-model')).toBe(credentialFingerprint('sk-key-one'));
  });

  it('serves each applied ConfigMap and annotates the Pod with the new hash', async () => {
    const latencies: number[] = [];
    const sinceKubectl: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const name = `live-${i}`;
      const started = performance.now();
      await applyConfig(liveConfig(mock, name));
      const kubectlDone = performance.now();
      const served = await waitFor(`${name} to serve`, async () => {
        const r = await call();
        return r.deployment === name ? r : undefined;
      }, 5_000, 5);
      latencies.push(performance.now() - started);
      sinceKubectl.push(performance.now() - kubectlDone);
      expect(served.status).toBe(200);
      await waitFor(`the pod annotation for ${name}`, async () => ((await podAnnotation(kubectl, NS, POD)) === served.hash ? true : undefined), 10_000);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    const after = [...sinceKubectl].sort((a, b) => a - b);
    console.log(
      `kubectl apply -> serving over ${sorted.length} updates: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms ` +
        `(kubectl process included); from kubectl's exit: p50 ${percentile(after, 50).toFixed(0)} ms, p99 ${percentile(after, 99).toFixed(0)} ms`,
    );
  }, TIMEOUT);

  it('serves every request under load across updates, each on one whole config', async () => {
    // hash -> the deployment that config routes to; a request must come back from the deployment
    // of the config hash it reports (no request mixes two configs).
    const deploymentOf = new Map<string, string>();
    const record = async (): Promise<void> => {
      const r = await call();
      if (r.hash && r.deployment) deploymentOf.set(r.hash, r.deployment);
    };
    await record();
    let stop = false;
    const failures: string[] = [];
    const seen: Array<{ hash: string; deployment: string }> = [];
    const worker = async (streamed: boolean): Promise<void> => {
      while (!stop) {
        try {
          if (streamed) {
            const { data, response } = await client.chat.completions.create({ model: 'live', messages: hi, stream: true }).withResponse();
            let chunks = 0;
            for await (const _chunk of data) chunks++;
            if (chunks === 0) failures.push('empty stream');
            seen.push({ hash: response.headers.get('x-switchboard-config-hash')!, deployment: response.headers.get('x-switchboard-deployment')! });
          } else {
            const r = await call();
            if (r.status !== 200) failures.push(`status ${r.status}`);
            seen.push({ hash: r.hash!, deployment: r.deployment! });
          }
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const started = performance.now();
    const workers = [false, false, false, true, true].map((streamed) => worker(streamed));
    for (let i = 1; i <= 10; i++) {
      const name = `load-${i}`;
      await applyConfig(liveConfig(mock, name));
      await waitFor(`${name} to serve`, async () => {
        const r = await call();
        if (r.hash && r.deployment) deploymentOf.set(r.hash, r.deployment);
        return r.deployment === name ? true : undefined;
      }, 5_000, 5);
    }
    stop = true;
    await Promise.all(workers);
    const seconds = (performance.now() - started) / 1000;
    console.log(`under load: ${seen.length} requests in ${seconds.toFixed(1)} s (${(seen.length / seconds).toFixed(0)}/s, 2 of 5 workers streaming) across 10 updates`);
    expect(failures).toEqual([]);
    expect(seen.length).toBeGreaterThan(100);
    // Each config routes `live` to one deployment: every request reporting a hash came from it.
    for (const r of seen) if (!deploymentOf.has(r.hash)) deploymentOf.set(r.hash, r.deployment);
    const mixed = seen.filter((r) => deploymentOf.get(r.hash) !== r.deployment);
    expect(mixed).toEqual([]);
    expect(new Set(seen.map((r) => r.deployment)).size).toBeGreaterThan(5);
  }, TIMEOUT);

  it('rejects an invalid ConfigMap, names the field, and keeps serving the last good config', async () => {
    const good = await readiness(gw.adminUrl);
    const before = await call();
    const rejectedBefore = await reloads('rejected');

    await applyConfig(liveConfig(mock, 'live-broken', SECRET, { provider: 'openia' }));
    const error = await waitFor('the invalid update to be rejected', async () => (await readiness(gw.adminUrl)).lastConfigError ?? undefined);
    expect(error).toContain(`ConfigMap ${NS}/${CM}`);
    expect(error).toContain('models[0].deployments[0].provider: got "openia"');
    expect(await reloads('rejected')).toBeGreaterThan(rejectedBefore);

    const after = await call();
    expect(after).toEqual(before);
    expect((await readiness(gw.adminUrl)).configHash).toBe(good.configHash);
    expect(await podAnnotation(kubectl, NS, POD)).toBe(good.configHash);

    await applyConfig(liveConfig(mock, 'live-fixed'));
    await waitFor('the fixed config to serve', async () => ((await call()).deployment === 'live-fixed' ? true : undefined));
    expect((await readiness(gw.adminUrl)).lastConfigError).toBeNull();
  }, TIMEOUT);

  it('uses a rotated Secret key for new requests without a restart', async () => {
    await call();
    expect(await lastCredential('live-fixed-model')).toBe(credentialFingerprint('sk-key-one'));
    const hash = (await readiness(gw.adminUrl)).configHash;

    await kubectl(['apply', '-f', '-'], secret(NS, SECRET, 'sk-key-two'));
    await waitFor('the rotated key to reach the upstream', async () => {
      await call();
      return (await lastCredential('live-fixed-model')) === credentialFingerprint('sk-key-two') ? true : undefined;
    });
    // The key is not part of the config: the config hash stays.
    expect((await readiness(gw.adminUrl)).configHash).toBe(hash);
  }, TIMEOUT);

  it('rejects a ConfigMap that references a missing Secret, then applies it once the Secret exists', async () => {
    const good = await readiness(gw.adminUrl);
    await applyConfig(liveConfig(mock, 'live-other-key', 'other-key'));
    const error = await waitFor('the update to be rejected', async () => (await readiness(gw.adminUrl)).lastConfigError ?? undefined);
    expect(error).toContain(`Secret ${NS}/other-key`);
    expect(error).toContain('does not exist');
    expect(await call()).toMatchObject({ status: 200, deployment: 'live-fixed', hash: good.configHash });

    await kubectl(['apply', '-f', '-'], secret(NS, 'other-key', 'sk-other'));
    await waitFor('the config to apply once the Secret exists', async () => ((await call()).deployment === 'live-other-key' ? true : undefined), 10_000);
    expect(await lastCredential('live-other-key-model')).toBe(credentialFingerprint('sk-other'));
    expect((await readiness(gw.adminUrl)).lastConfigError).toBeNull();
  }, TIMEOUT);

  it('keeps serving through an apiserver restart and picks up a change made after it', async () => {
    const before = await call();
    let stop = false;
    const failures: string[] = [];
    let served = 0;
    const load = (async () => {
      while (!stop) {
        try {
          const r = await call();
          if (r.status !== 200 || r.deployment !== before.deployment) failures.push(`${r.status} ${r.deployment}`);
          served++;
        } catch (error) {
          failures.push(String(error));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await cluster.restartApiserver();
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(10);

    await applyConfig(liveConfig(mock, 'live-after-restart'));
    const after = await waitFor('the change after the restart to serve', async () => {
      const r = await call();
      return r.deployment === 'live-after-restart' ? r : undefined;
    }, 30_000);
    await waitFor('the pod annotation after the restart', async () => ((await podAnnotation(kubectl, NS, POD)) === after.hash ? true : undefined), 30_000);
  }, TIMEOUT);
});

describe('applied-hash report', () => {
  it('retries with backoff until its Pod exists, without holding up the config', async () => {
    const source = await KubeConfigSource.start({
      name: CM,
      namespace: NS,
      kubeconfigPath: cluster.kubeconfigPath,
      pod: { namespace: NS, name: 'late-0' },
      env: { SWITCHBOARD_MASTER_KEY: MASTER_KEY },
    });
    try {
      const hash = source.current().hash;
      const failing = await waitFor('a failed report', async () => source.status().appliedHash?.lastError);
      expect(failing).toContain('404');
      expect(source.status().appliedHash?.pending).toBe(hash);

      await kubectl(['apply', '-f', '-'], pod(NS, 'late-0'));
      await waitFor('the annotation on the late Pod', async () => ((await podAnnotation(kubectl, NS, 'late-0')) === hash ? true : undefined), 20_000);
      expect(source.status().appliedHash).toEqual({ reported: hash, pending: undefined, lastError: undefined });
    } finally {
      await source.stop();
    }
  }, TIMEOUT);
});
