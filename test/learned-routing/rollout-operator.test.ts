// RoutingModel rollout end to end, as it runs in a cluster: a real kube-apiserver with the CRDs,
// the operator as a real process, a real data plane (`switchboard gateway --configmap`, with a
// Pod object this test creates and marks Ready since no kubelet runs) and the real mock upstream.
// `kubectl apply` of a GatewayConfig with routingModelRef and a RoutingModel whose artifact is in
// a ConfigMap makes `model: picker` requests route by the learned router; a new artifact
// hot-swaps under load without a failed request; a second RoutingModel rolled out alongside in
// shadow mode (inline artifact, packed by the operator) is recorded but never acts; a public key
// Secret on the GatewayConfig makes unsigned artifacts rejected until they are signed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { LearnedRouter } from '../../dataplane/src/routing/learned/index.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { metricValue, readiness } from '../support/stack.js';
import { buildOperator, condition, getJson, installCrds, killAllOperators, kubectlOk, startOperator, waitFor, type OperatorProcess } from '../operator-e2e/operator-process.js';
import { signArtifact } from '../../dataplane/src/routing/rollout/signature.js';
import { S3_CREDENTIALS, S3_REGION, startS3, type S3Server } from '../support/s3.js';
import { dataset, gzip, PRICES } from './fixtures.js';

const NS = 'sb-rollout';
const GW = 'edge';
const POD = 'edge-gateway-0';
const UPSTREAM_KEY = 'sk-upstream-rollout';
const MASTER_KEY = 'sk-master-rollout';
const TIMEOUT = 180_000;
const CODE = 'write code for merging two sorted arrays';
const CHAT = 'tell me a story about a brave little dog';

let cluster: Cluster;
let operator: OperatorProcess;
let mock: MockServer;
let s3: S3Server;
let gateway: RunningCli;
let url: string;
let adminUrl: string;

const apply = (obj: object): Promise<string> => kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify(obj));
const candidates = [{ name: 'strong' }, { name: 'cheap' }];
const artifactConfigMap = (bytes: Uint8Array): object => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trained', namespace: NS }, binaryData: { 'router.gz': gzip(bytes).toString('base64') } });
const routingModel = (name: string, spec: Record<string, unknown>): object => ({
  apiVersion: 'switchboard.dev/v1alpha1',
  kind: 'RoutingModel',
  metadata: { name, namespace: NS },
  spec: { router: 'knn', candidates, decision: { willingnessToPay: 10 }, ...spec },
});
// The artifacts' models are the gateway's aliases: "strong" is good at code, "cheap" at chat.
const asAliases = (inverted: boolean, dim?: number): Uint8Array => {
  const examples = dataset(inverted).map((e) => ({ query: e.query, scores: { strong: e.scores['model-a']!, cheap: e.scores['model-b']! } }));
  const prices = { strong: PRICES['model-a']!, cheap: PRICES['model-b']! };
  return LearnedRouter.train(examples, prices, { kind: 'knn', head: { k: 5 }, seed: 1, ...(dim ? { featurizer: { dim } } : {}) }).encode().bytes;
};

function gatewayConfig(routing: Record<string, unknown> = {}): object {
  const upstream = (name: string): object => ({ name, provider: 'openai', model: `${name}-upstream`, baseUrl: `${mock.url}/v1`, credentials: { secretKeyRef: { name: 'upstream-key', key: 'api-key' } } });
  return {
    apiVersion: 'switchboard.dev/v1alpha1',
    kind: 'GatewayConfig',
    metadata: { name: GW, namespace: NS },
    spec: {
      models: [
        { name: 'strong', deployments: [upstream('strong-d')] },
        { name: 'cheap', deployments: [upstream('cheap-d')] },
      ],
      routing: { routingModelRef: { name: 'picker' }, ...routing },
      auth: { masterKey: { secretKeyRef: { name: 'master-key', key: 'api-key' } } },
      workload: { replicas: 1 },
    },
  };
}

interface Answer {
  status: number;
  /** A stream that ended with [DONE] and no error event; true for a JSON answer. */
  complete: boolean;
  model: string | null;
  router: string | null;
  shadow: string | null;
  hash: string | null;
}

async function ask(text: string, stream = false): Promise<Answer> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'picker', messages: [{ role: 'user', content: text }], stream }),
  });
  const body = await res.text();
  const complete = !stream || (body.trimEnd().endsWith('data: [DONE]') && !body.includes('"error"'));
  const h = (name: string): string | null => res.headers.get(name);
  return { status: res.status, complete, model: h('x-switchboard-model'), router: h('x-switchboard-router'), shadow: h('x-switchboard-shadow-route'), hash: h('x-switchboard-config-hash') };
}

interface RoutingModelJson {
  metadata: { generation: number };
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string; message?: string; observedGeneration?: number }> };
}

const routingModelStatus = (name: string): Promise<RoutingModelJson | undefined> => getJson<RoutingModelJson>(cluster, ['routingmodel', name, '-n', NS]);

/** Waits for Applied=True on a RoutingModel; a timeout names the last conditions seen. */
async function waitApplied(name: string): Promise<RoutingModelJson> {
  let last: RoutingModelJson | undefined;
  try {
    return await waitFor(`RoutingModel ${name} Applied`, async () => {
      last = await routingModelStatus(name);
      return condition(last, 'Applied')?.status === 'True' ? last : undefined;
    }, 30_000);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status ${JSON.stringify(last?.status)}`, { cause: error });
  }
}

beforeAll(async () => {
  await buildOperator(); // `tsc -b`: the operator and the data plane CLI run from dist/
  [cluster, mock, s3] = await Promise.all([startCluster(), startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 5, tokensPerSecond: 1000 }), startS3()]);
  await installCrds(cluster);
  await kubectlOk(cluster, ['create', 'namespace', NS]);
  const secret = (name: string, value: string): object => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, stringData: { 'api-key': value } });
  await apply({ apiVersion: 'v1', kind: 'List', items: [secret('upstream-key', UPSTREAM_KEY), secret('master-key', MASTER_KEY), artifactConfigMap(asAliases(false))] });
  operator = await startOperator({ kubeconfig: cluster.kubeconfigPath, identity: 'rollout', args: ['--namespace', NS, '--leader-elect=false'] });

  await apply(routingModel('picker', { artifact: { configMapRef: { name: 'trained', key: 'router.gz' } }, rollout: { mode: 'active' } }));
  await apply(gatewayConfig());
  const deployment = await waitFor('the gateway Deployment', () => getJson<{ spec: { selector: { matchLabels: Record<string, string> } } }>(cluster, ['deployment', `${GW}-gateway`, '-n', NS]), 30_000);
  await apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS, labels: deployment.spec.selector.matchLabels }, spec: { containers: [{ name: 'gateway', image: 'switchboard/dataplane:e2e' }] } });
  await kubectlOk(cluster, ['patch', 'pod', POD, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
  gateway = startCli(['gateway', '--configmap', `${GW}-runtime`, '--namespace', NS, '--kubeconfig', cluster.kubeconfigPath, '--port', '0', '--admin-port', '0'], { POD_NAME: POD, POD_NAMESPACE: NS });
  const m = await gateway.waitForOutput(/"port":(\d+),"adminPort":(\d+),"configHash":"([0-9a-f]{16})"/, 30_000);
  url = `http://127.0.0.1:${m[1]}`;
  adminUrl = `http://127.0.0.1:${m[2]}`;
}, TIMEOUT);

afterAll(async () => {
  const steps: Array<() => unknown> = [() => gateway?.stop(), () => operator?.stop(10_000), () => killAllOperators(), () => mock?.close(), () => s3?.close(), () => cluster?.stop()];
  for (const step of steps) await Promise.resolve().then(step).catch(() => undefined);
}, TIMEOUT);

describe('a GatewayConfig routing through a RoutingModel', () => {
  it('routes model "picker" by the learned router and says which router picked', async () => {
    const code = await ask(CODE);
    expect(code).toMatchObject({ status: 200, model: 'strong', router: 'picker; picker; active', shadow: null });
    expect(await ask(CHAT)).toMatchObject({ status: 200, model: 'cheap', router: 'picker; picker; active' });
    const list = (await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((d) => d.id)).toContain('picker');
  }, 60_000);

  it('reports on the RoutingModel that the gateway serves it', async () => {
    const rm = await waitApplied('picker');
    expect(condition(rm, 'Applied')).toMatchObject({ reason: 'Applied', message: `serving on GatewayConfig ${GW}` });
    expect(condition(rm, 'Ready')).toMatchObject({ status: 'True', reason: 'ArtifactReferenced' });
  }, 60_000);

  it('hot-swaps a new artifact under load, streamed and not, without a failed request', async () => {
    const before = await ask(CODE);
    const answers: Answer[] = [];
    let swapped: Answer | undefined;
    let stop = false;
    const worker = async (stream: boolean): Promise<void> => {
      while (!stop) {
        const a = await ask(CODE, stream);
        answers.push(a);
        if (a.hash !== before.hash && a.model === 'cheap') swapped ??= a;
      }
    };
    const workers = [worker(false), worker(false), worker(true), worker(true)];
    await apply(artifactConfigMap(asAliases(true)));
    await waitFor('the swapped router', () => swapped, 20_000, 20);
    const afterSwap = answers.length;
    await waitFor('more answers after the swap', () => answers.length >= afterSwap + 20 || undefined, 10_000, 20);
    stop = true;
    await Promise.all(workers);
    expect(answers.filter((a) => a.status !== 200 || !a.complete)).toEqual([]);
    // Each answer is consistent with the config that served it: old hash -> strong, new -> cheap.
    expect(answers.filter((a) => (a.hash === before.hash ? a.model !== 'strong' : a.model !== 'cheap'))).toEqual([]);
    expect(answers.slice(afterSwap).every((a) => a.model === 'cheap')).toBe(true);
    // The operator follows the new artifact (its ConfigMap watch; nothing polls):
    // the GatewayConfig's hash becomes the one the data plane reports, and ConfigApplied is True.
    const applied = await waitFor('ConfigApplied on the swapped artifact', async () => {
      const g = await getJson<{ status?: { configHash?: string; conditions?: Array<{ type: string; status: string }> } }>(cluster, ['gatewayconfig', GW, '-n', NS]);
      return g?.status?.configHash === swapped!.hash && condition(g, 'ConfigApplied')?.status === 'True' ? g : undefined;
    }, 30_000);
    expect(applied.status?.configHash).toBe(swapped!.hash);
  }, 60_000);

  it('records a shadow RoutingModel rolled out alongside, without acting on it', async () => {
    // Inline (packed by the operator into next-artifact): the original router, which now disagrees on code.
    const inline = Buffer.from(asAliases(false, 1024)).toString('base64');
    await apply(routingModel('next', { artifact: { inline }, rollout: { mode: 'shadow', alongside: 'picker' } }));
    const first = await waitFor('the shadow decision', async () => {
      const a = await ask(CODE);
      return a.shadow !== null ? a : undefined;
    }, 30_000, 50);
    expect(first).toMatchObject({ status: 200, model: 'cheap', router: 'picker; picker; active', shadow: 'next=strong disagree' });
    const disagreeBefore = await metricValue(adminUrl, 'switchboard_router_shadow_decisions_total', { router: 'next', agree: 'false' });
    const upstreamBefore = (await (await fetch(`${mock.url}/mock/stats`)).json()) as { byModel: Record<string, number> };
    for (let i = 0; i < 5; i++) expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap', shadow: 'next=strong disagree' });
    expect(await ask(CHAT)).toMatchObject({ status: 200, model: 'strong', shadow: 'next=cheap disagree' });
    const upstreamAfter = (await (await fetch(`${mock.url}/mock/stats`)).json()) as { byModel: Record<string, number> };
    expect((upstreamAfter.byModel['cheap-d-upstream'] ?? 0) - (upstreamBefore.byModel['cheap-d-upstream'] ?? 0)).toBe(5);
    expect(await metricValue(adminUrl, 'switchboard_router_shadow_decisions_total', { router: 'next', agree: 'false' })).toBe(disagreeBefore + 6);
    const rm = await waitApplied('next');
    expect(condition(rm, 'Applied')?.message).toBe(`serving alongside RoutingModel picker on GatewayConfig ${GW}`);
    expect(condition(rm, 'Ready')).toMatchObject({ status: 'True', reason: 'ArtifactPacked' });
  }, 60_000);

  it('refuses a RoutingModel whose featurizer is not the artifact\'s, and keeps it out of the gateway', async () => {
    const inline = Buffer.from(asAliases(false, 1024)).toString('base64');
    await apply(routingModel('wrong', { featurizer: { type: 'hashed', dimensions: 384 }, artifact: { inline }, rollout: { mode: 'shadow', alongside: 'picker' } }));
    const refused = await waitFor('InvalidArtifact on RoutingModel wrong', async () => {
      const rm = await routingModelStatus('wrong');
      return condition(rm, 'Ready')?.reason === 'InvalidArtifact' ? rm : undefined;
    }, 30_000);
    expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', message: "spec.featurizer.dimensions is 384 but the artifact's featurizer has 1024" });
    // The gateway applies a config without it and keeps serving the other models.
    await waitFor('the gateway config applied without RoutingModel wrong', async () => {
      const g = await getJson<{ metadata: { generation: number }; status?: { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> } }>(cluster, ['gatewayconfig', GW, '-n', NS]);
      return condition(g, 'ConfigApplied')?.status === 'True' && (await readiness(adminUrl)).lastConfigError === null ? g : undefined;
    }, 30_000, 50);
    const runtime = await getJson<{ data: Record<string, string> }>(cluster, ['configmap', `${GW}-runtime`, '-n', NS]);
    const rendered = JSON.parse(runtime!.data['config.json']!) as { routers: Array<{ models: Array<{ name: string }> }> };
    expect(rendered.routers[0]!.models.map((m) => m.name)).toEqual(['picker', 'next']);
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap', shadow: 'next=strong disagree' });
    await kubectlOk(cluster, ['delete', 'routingmodel', 'wrong', '-n', NS]);
  }, 60_000);

  it('serves a RoutingModel whose artifact is an s3:// object, with its keys from a Secret the ConfigMap only names', async () => {
    const bytes = asAliases(false, 1024);
    await s3.put('routers', 'shadow/s3next.art', bytes);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'artifact-store', namespace: NS }, stringData: { AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey } });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const s3Settings = { endpoint: s3.endpoint, region: S3_REGION, credentialsSecretRef: { name: 'artifact-store' } };
    await apply(routingModel('s3next', { artifact: { uri: 's3://routers/shadow/s3next.art', sha256, s3: s3Settings }, rollout: { mode: 'shadow', alongside: 'picker' } }));
    try {
      const answer = await waitFor('the s3 shadow decision', async () => {
        const a = await ask(CODE);
        return a.shadow?.includes('s3next=') ? a : undefined;
      }, 30_000, 50);
      // The object's router is good at code: it picks "strong", whatever the active model picks.
      expect(answer.status).toBe(200);
      expect(answer.shadow).toMatch(/s3next=strong (agree|disagree)/);
      const runtime = await getJson<{ data: Record<string, string> }>(cluster, ['configmap', `${GW}-runtime`, '-n', NS]);
      const text = runtime!.data['config.json']!;
      const rendered = JSON.parse(text) as { routers: Array<{ models: Array<{ name: string; artifact: Record<string, unknown> }> }> };
      expect(rendered.routers[0]!.models.find((m) => m.name === 's3next')?.artifact).toEqual({
        uri: 's3://routers/shadow/s3next.art',
        sha256,
        s3: {
          endpoint: s3.endpoint,
          region: S3_REGION,
          accessKeyId: { secretKeyRef: { name: 'artifact-store', key: 'AWS_ACCESS_KEY_ID' } },
          secretAccessKey: { secretKeyRef: { name: 'artifact-store', key: 'AWS_SECRET_ACCESS_KEY' } },
        },
      });
      expect(text).not.toContain(S3_CREDENTIALS.secretAccessKey);
      const role = await getJson<{ rules: Array<{ resources: string[]; resourceNames?: string[] }> }>(cluster, ['role', `${GW}-gateway`, '-n', NS]);
      expect(role!.rules.find((r) => r.resources[0] === 'secrets')?.resourceNames).toContain('artifact-store');
    } finally {
      await kubectlOk(cluster, ['delete', 'routingmodel', 's3next', '-n', NS]);
      await waitFor('the gateway without s3next', async () => ((await ask(CODE)).shadow?.includes('s3next=') ? undefined : true), 30_000, 50);
    }
  }, 60_000);

  it('requires signed artifacts once the GatewayConfig names a public key Secret', async () => {
    const keys = generateKeyPairSync('ed25519');
    const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'router-keys', namespace: NS }, stringData: { 'ed25519.pub': publicPem } });
    const serving = (await readiness(adminUrl)).configHash;
    // The artifacts in place are unsigned: the gateway rejects the new config and keeps serving.
    await apply(gatewayConfig({ routingModelPublicKey: { secretKeyRef: { name: 'router-keys', key: 'ed25519.pub' } } }));
    const rejected = await waitFor('the unsigned artifact rejected', async () => (await readiness(adminUrl)).lastConfigError ?? undefined, 30_000, 50);
    expect(rejected).toContain('(router picker, routing model picker): artifact');
    expect(rejected).toContain('is not signed, but a public key is configured');
    expect(rejected).not.toContain('PUBLIC KEY');
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap', hash: serving });

    // Sign both artifacts: the operator's inline one (RoutingModel next) and the ConfigMap one.
    await apply(artifactConfigMap(signArtifact(asAliases(true), privatePem).bytes));
    const inline = Buffer.from(signArtifact(asAliases(false, 1024), privatePem).bytes).toString('base64');
    await apply(routingModel('next', { artifact: { inline }, rollout: { mode: 'shadow', alongside: 'picker' } }));
    const signed = await waitFor('the signed artifacts served', async () => {
      const a = await ask(CODE);
      return a.hash !== serving && (await readiness(adminUrl)).lastConfigError === null ? a : undefined;
    }, 30_000, 50);
    expect(signed).toMatchObject({ status: 200, model: 'cheap', shadow: 'next=strong disagree' });
  }, 60_000);
});
