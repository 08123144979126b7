// Virtual aliases routed by routing models in rollout, end to end in standalone mode: a real
// gateway (config file), the real mock upstream and a local HTTP server for URI artifacts.
// "auto" is not an alias: a routing model picks "strong" (code) or "cheap" (chat) per request,
// then the alias's deployment routing applies. Covers active, shadow (recorded in a header and a
// metric, never acted on), canary by request id, signed artifacts and URI + sha256 downloads.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeConfigInput } from '@switchboard/crds';
import { deployment, gatewayConfig, MASTER_KEY, metricValue, readiness, sha256Hex, startTestGateway, startTestMock, upstreamCount, waitFor, type TestGateway } from '../support/stack.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { canaryBucket } from '../../dataplane/src/routing/rollout/alias-router.js';
import { signArtifact } from '../../dataplane/src/routing/rollout/signature.js';
import { gzip, trainArtifact, writeBytesAtomic } from './fixtures.js';

type RoutingModelInput = NonNullable<RuntimeConfigInput['routers']>[number]['models'][number];

const CODE = 'write code for merging two sorted arrays';
const TEAM_KEY = 'sk-team-rollout';
const CHAT = 'tell me a story about a brave little dog';
const candidates = { 'model-a': 'strong', 'model-b': 'cheap' };
const keys = generateKeyPairSync('ed25519');
const privatePem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const publicPem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const normal = trainArtifact(false);
const inverted = trainArtifact(true);

let mock: MockServer;
let gw: TestGateway;
let files: Server;
let filesUrl: string;
const served = new Map<string, Uint8Array>();

function config(models: RoutingModelInput[]): RuntimeConfigInput {
  return gatewayConfig(
    [
      { name: 'strong', deployments: [deployment(mock, 'strong-d', 'openai')] },
      { name: 'cheap', deployments: [deployment(mock, 'cheap-d', 'openai')] },
    ],
    { routers: [{ name: 'auto', default: 'strong', models }], auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' }, clientKeys: [{ name: 'team', sha256: sha256Hex(TEAM_KEY), models: ['auto'] }] } },
  );
}
const fileModel = (name: string, file: string, extra: Partial<RoutingModelInput> = {}): RoutingModelInput => ({ name, artifact: { file: join(gw.dir, file) }, candidates, ...extra });

interface Answer {
  status: number;
  model: string | null;
  router: string | null;
  shadow: string | null;
  reason: string | null;
  hash: string | null;
}

async function ask(text: string, requestId?: string, key = MASTER_KEY, model = 'auto'): Promise<Answer> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  const h = (name: string): string | null => res.headers.get(name);
  return { status: res.status, model: h('x-switchboard-model'), router: h('x-switchboard-router'), shadow: h('x-switchboard-shadow-route'), reason: h('x-switchboard-route-reason'), hash: h('x-switchboard-config-hash') };
}

/** Writes a config and waits until the gateway serves it. */
async function apply(next: RuntimeConfigInput): Promise<void> {
  const before = (await readiness(gw.adminUrl)).configHash;
  await gw.writeConfig(next);
  await waitFor('the new config', async () => ((await readiness(gw.adminUrl)).configHash !== before ? true : undefined));
}

async function rejection(): Promise<string> {
  return waitFor('the rejection', async () => (await readiness(gw.adminUrl)).lastConfigError ?? undefined);
}

beforeAll(async () => {
  mock = await startTestMock();
  files = createServer((req, res) => {
    const body = served.get((req.url ?? '').split('?')[0]!);
    if (body) res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  gw = await startTestGateway(undefined, {
    files: { 'public.pem': publicPem },
    render: (dir) => {
      writeFileSync(join(dir, 'picker.art'), gzip(normal.bytes));
      writeFileSync(join(dir, 'next.art'), inverted.bytes);
      return config([{ name: 'picker', artifact: { file: join(dir, 'picker.art') }, candidates }]);
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
  await new Promise<void>((resolve) => files?.close(() => resolve()));
});

describe('a virtual alias routed by an active routing model', () => {
  it('serves each request on the alias the routing model picks and says which router and why', async () => {
    const code = await ask(CODE);
    expect(code).toMatchObject({ status: 200, model: 'strong', router: 'auto; picker; active', shadow: null });
    expect(code.reason).toMatch(/^router auto: picker active, learned knn \(model-a q=[0-9.]+ cost=3; lambda=10\) -> strong; weighted$/);
    expect(await ask(CHAT)).toMatchObject({ status: 200, model: 'cheap', router: 'auto; picker; active' });
  });

  it('lets a client key allowed only the virtual alias reach the aliases it picks, not call them directly', async () => {
    expect(await ask(CODE, undefined, TEAM_KEY)).toMatchObject({ status: 200, model: 'strong' });
    expect(await ask(CHAT, undefined, TEAM_KEY)).toMatchObject({ status: 200, model: 'cheap' });
    expect((await ask(CODE, undefined, TEAM_KEY, 'strong')).status).toBe(403);
  });

  it('lists the virtual alias in /v1/models', async () => {
    const list = (await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(['strong', 'cheap', 'auto']);
  });
});

describe('rollout modes', () => {
  it('shadow: records what the shadow model would pick, in a header and a metric, and routes by the active one', async () => {
    await apply(config([fileModel('picker', 'picker.art'), fileModel('next', 'next.art', { mode: 'shadow' })]));
    const disagreeBefore = await metricValue(gw.adminUrl, 'switchboard_router_shadow_decisions_total', { router: 'next', agree: 'false' });
    const agreeBefore = await metricValue(gw.adminUrl, 'switchboard_router_shadow_decisions_total', { router: 'next', agree: 'true' });
    const [strongBefore, cheapBefore] = [await upstreamCount(mock, 'strong-d-model'), await upstreamCount(mock, 'cheap-d-model')];
    const code = await ask(CODE);
    expect(code).toMatchObject({ status: 200, model: 'strong', router: 'auto; picker; active', shadow: 'next=cheap disagree' });
    expect(await upstreamCount(mock, 'strong-d-model')).toBe(strongBefore + 1);
    expect(await upstreamCount(mock, 'cheap-d-model')).toBe(cheapBefore);
    expect(await metricValue(gw.adminUrl, 'switchboard_router_shadow_decisions_total', { router: 'next', agree: 'false' })).toBe(disagreeBefore + 1);
    expect(await metricValue(gw.adminUrl, 'switchboard_router_shadow_decisions_total', { router: 'next', agree: 'true' })).toBe(agreeBefore);
  });

  it('canary: request ids in the canary share are routed by the canary model, the rest by the active one', async () => {
    await apply(config([fileModel('picker', 'picker.art'), fileModel('next', 'next.art', { mode: 'canary', canaryPercent: 25 })]));
    const ids = Array.from({ length: 24 }, (_, i) => `canary-${i}`);
    for (const id of ids) {
      const inCanary = canaryBucket(id) < 25;
      expect(await ask(CODE, id)).toMatchObject({ status: 200, model: inCanary ? 'cheap' : 'strong', router: inCanary ? 'auto; next; canary' : 'auto; picker; active' });
    }
    expect(ids.some((id) => canaryBucket(id) < 25)).toBe(true);
  });
});

describe('artifact sources and signatures', () => {
  it('accepts a signed artifact and rejects an unsigned one when a public key is configured', async () => {
    await writeBytesAtomic(join(gw.dir, 'signed.art'), gzip(signArtifact(normal.bytes, privatePem).bytes));
    const signedConfig = config([fileModel('picker', 'signed.art', { publicKey: { file: join(gw.dir, 'public.pem') } })]);
    await apply(signedConfig);
    const good = await ask(CODE);
    expect(good).toMatchObject({ status: 200, model: 'strong' });

    await writeBytesAtomic(join(gw.dir, 'signed.art'), normal.bytes);
    const error = await rejection();
    expect(error).toContain(`router artifact file ${join(gw.dir, 'signed.art')} (router auto, routing model picker): artifact ${normal.digest.slice(0, 12)} is not signed, but a public key is configured`);
    expect(error).not.toContain('BEGIN');
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'strong', hash: good.hash });
  });

  it('downloads a URI artifact, checks its sha256, and rejects a mismatch', async () => {
    served.set('/next.art', inverted.bytes);
    const sha256 = createHash('sha256').update(inverted.bytes).digest('hex');
    await apply(config([{ name: 'next', artifact: { uri: `${filesUrl}/next.art`, sha256 }, candidates }]));
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap', router: 'auto; next; active' });

    await gw.writeConfig(config([{ name: 'next', artifact: { uri: `${filesUrl}/next.art?sig=abc`, sha256: 'f'.repeat(64) }, candidates }]));
    const error = await rejection();
    expect(error).toContain(`router artifact ${filesUrl}/next.art: sha256 ${sha256} does not match the pinned ${'f'.repeat(64)}`);
    expect(error).not.toContain('sig=abc');
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap' });
  });
});
