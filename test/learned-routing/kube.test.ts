// Learned routing through the Kubernetes config source on a real kube-apiserver (test/cluster):
// the runtime config (a ConfigMap) routes the alias "auto" through an artifact held, gzip, in the
// binaryData of another ConfigMap (the shape the operator writes for a RoutingModel). Replacing
// that ConfigMap swaps the router without a restart; a corrupt artifact is rejected and the last
// good router keeps serving.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { RuntimeConfigInput } from '@switchboard/crds';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { startGateway, type RunningGateway } from '../../dataplane/src/gateway.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { deployment, gatewayConfig, MASTER_KEY, readiness, startTestMock, waitFor } from '../support/stack.js';
import { configMap, kubectlOf, type Kubectl } from '../dataplane-kube/support.js';
import { gzip, trainArtifact } from './fixtures.js';

const NS = 'sb-learned-routing';
const CM = 'gw-runtime';
const ARTIFACT_CM = 'picker-artifact';
const TIMEOUT = 180_000;

let cluster: Cluster;
let kubectl: Kubectl;
let mock: MockServer;
let gw: RunningGateway;

function runtimeConfig(): RuntimeConfigInput {
  return gatewayConfig([
    {
      name: 'auto',
      deployments: [deployment(mock, 'coder', 'openai'), deployment(mock, 'chatty', 'openai')],
      router: { artifact: { configMap: { name: ARTIFACT_CM } }, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } },
    },
  ]);
}

const applyArtifact = (bytes: Uint8Array): Promise<string> =>
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ARTIFACT_CM, namespace: NS }, binaryData: { 'artifact.gz': Buffer.from(bytes).toString('base64') } }));

async function ask(text: string): Promise<{ status: number; deployment: string | null; reason: string | null; hash: string | null }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  return { status: res.status, deployment: res.headers.get('x-switchboard-deployment'), reason: res.headers.get('x-switchboard-route-reason'), hash: res.headers.get('x-switchboard-config-hash') };
}

const CODE = 'write code for merging two sorted arrays';

beforeAll(async () => {
  cluster = await startCluster();
  kubectl = kubectlOf(cluster);
  mock = await startTestMock(null);
  await kubectl(['create', 'namespace', NS]);
  await applyArtifact(gzip(trainArtifact(false).bytes));
  await kubectl(['apply', '-f', '-'], configMap(NS, CM, runtimeConfig()));
  gw = await startGateway({
    configMap: { name: CM, namespace: NS, kubeconfigPath: cluster.kubeconfigPath },
    port: 0,
    adminPort: 0,
    env: { UPSTREAM_API_KEY: 'unused', SWITCHBOARD_MASTER_KEY: MASTER_KEY },
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
}, TIMEOUT);

afterAll(async () => {
  await gw?.close(1000);
  await mock?.close();
  await cluster?.stop();
}, TIMEOUT);

describe('learned routing through the Kubernetes config source', () => {
  it('routes with the artifact from the ConfigMap', async () => {
    const code = await ask(CODE);
    expect(code).toMatchObject({ status: 200, deployment: 'coder' });
    expect(code.reason).toMatch(/^learned knn \(model-a q=[0-9.]+ cost=3; lambda=10\)$/);
    expect(await ask('tell me a story about the moon')).toMatchObject({ status: 200, deployment: 'chatty' });
  });

  it('swaps the router when the artifact ConfigMap changes, and rejects a corrupt one', async () => {
    const before = (await readiness(gw.adminUrl)).configHash;
    await applyArtifact(gzip(trainArtifact(true).bytes));
    const swapped = await waitFor('the swapped router', async () => {
      const r = await ask(CODE);
      return r.hash !== before ? r : undefined;
    }, 10_000);
    expect(swapped.deployment).toBe('chatty');

    await applyArtifact(Buffer.from('not an artifact at all'));
    const ready = await waitFor('the rejection', async () => {
      const r = await readiness(gw.adminUrl);
      return r.lastConfigError !== null ? r : undefined;
    }, 10_000);
    expect(ready.lastConfigError).toContain(`router artifact ConfigMap ${ARTIFACT_CM} key artifact.gz`);
    expect(ready.configHash).toBe(swapped.hash);
    expect(await ask(CODE)).toMatchObject({ status: 200, deployment: 'chatty', hash: swapped.hash });
  });
});
