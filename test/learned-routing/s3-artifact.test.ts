// Router artifacts in S3, end to end: a real S3 API server (moto, test/support/s3.ts), a real
// gateway whose config names s3://bucket/key artifacts with access keys by reference, and the
// mock upstream. The artifact is downloaded with the AWS SDK, checked against its sha256 and
// hot-swapped when the config pins a new object; failures name the object and the S3 error,
// never a key.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { RuntimeConfigInput } from '@switchboard/crds';
import { deployment, gatewayConfig, MASTER_KEY, readiness, startTestGateway, startTestMock, waitFor, type TestGateway } from '../support/stack.js';
import { S3_CREDENTIALS, S3_REGION, startS3, type S3Server } from '../support/s3.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { ArtifactDownloads } from '../../dataplane/src/routing/rollout/downloads.js';
import { gzip, trainArtifact } from './fixtures.js';

type RoutingModelInput = NonNullable<RuntimeConfigInput['routers']>[number]['models'][number];

const CODE = 'write code for merging two sorted arrays';
const candidates = { 'model-a': 'strong', 'model-b': 'cheap' };
const normal = trainArtifact(false);
const inverted = trainArtifact(true);
const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
// The keys reach the gateway as environment variables the config names, as a Secret would.
const KEY_ENV = { ARTIFACT_KEY_ID: S3_CREDENTIALS.accessKeyId, ARTIFACT_SECRET: S3_CREDENTIALS.secretAccessKey };

let s3: S3Server;
let mock: MockServer;
let gw: TestGateway;

function s3Model(key: string, sha256: string): RoutingModelInput {
  return {
    name: 'picker',
    artifact: { uri: `s3://routers/${key}`, sha256, s3: { endpoint: s3.endpoint, region: S3_REGION, accessKeyId: { env: 'ARTIFACT_KEY_ID' }, secretAccessKey: { env: 'ARTIFACT_SECRET' } } },
    candidates,
  };
}

function config(model: RoutingModelInput): RuntimeConfigInput {
  return gatewayConfig(
    [
      { name: 'strong', deployments: [deployment(mock, 'strong-d', 'openai')] },
      { name: 'cheap', deployments: [deployment(mock, 'cheap-d', 'openai')] },
    ],
    { routers: [{ name: 'auto', default: 'strong', models: [model] }] },
  );
}

async function ask(text: string): Promise<{ status: number; model: string | null; router: string | null }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  return { status: res.status, model: res.headers.get('x-switchboard-model'), router: res.headers.get('x-switchboard-router') };
}

beforeAll(async () => {
  s3 = await startS3();
  await s3.put('routers', 'v1/picker.art.gz', gzip(normal.bytes));
  await s3.put('routers', 'v2/picker.art', inverted.bytes);
  mock = await startTestMock();
  gw = await startTestGateway(undefined, { env: KEY_ENV, render: () => config(s3Model('v1/picker.art.gz', digest(gzip(normal.bytes)))) });
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
  await s3?.close();
});

describe('s3:// router artifacts', () => {
  it('starts with an artifact read from S3 and routes by it', async () => {
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'strong', router: 'auto; picker; active' });
  });

  it('swaps to a new object when the config pins it, and keeps serving the old one when the pin does not match', async () => {
    const before = (await readiness(gw.adminUrl)).configHash;
    await gw.writeConfig(config(s3Model('v2/picker.art', digest(inverted.bytes))));
    await waitFor('the new config', async () => ((await readiness(gw.adminUrl)).configHash !== before ? true : undefined));
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap' });

    await gw.writeConfig(config(s3Model('v1/picker.art.gz', 'f'.repeat(64))));
    const error = await waitFor('the rejection', async () => (await readiness(gw.adminUrl)).lastConfigError ?? undefined);
    expect(error).toContain(`router artifact s3://routers/v1/picker.art.gz: sha256 ${digest(gzip(normal.bytes))} does not match the pinned ${'f'.repeat(64)}`);
    expect(error).not.toContain(S3_CREDENTIALS.secretAccessKey);
    expect(await ask(CODE)).toMatchObject({ status: 200, model: 'cheap' });
  });

  it('rejects a config whose access key is not set, naming the reference', async () => {
    const model = s3Model('v1/picker.art.gz', digest(gzip(normal.bytes)));
    const artifact = { ...(model.artifact as { uri: string; sha256: string; s3: Record<string, unknown> }) };
    artifact.s3 = { ...artifact.s3, accessKeyId: { env: 'NOT_SET_ANYWHERE' } };
    await gw.writeConfig(config({ ...model, artifact }));
    const error = await waitFor('the rejection', async () => {
      const e = (await readiness(gw.adminUrl)).lastConfigError;
      return e?.includes('NOT_SET_ANYWHERE') ? e : undefined;
    });
    expect(error).toContain('environment variable NOT_SET_ANYWHERE is missing or empty');
  });
});

describe('S3 downloads', () => {
  const access = { region: S3_REGION, credentials: S3_CREDENTIALS };

  it('names a missing object, a missing bucket, an oversized object and an unreachable store by S3 error, never a key', async () => {
    const downloads = new ArtifactDownloads({ maxBytes: 1024, timeoutMs: 10_000 });
    const at = { ...access, endpoint: s3.endpoint };
    const sha256 = 'a'.repeat(64);
    await expect(downloads.fetchAll([{ uri: 's3://routers/missing.art', sha256, s3: at }])).rejects.toThrow('router artifact s3://routers/missing.art: S3 NoSuchKey (HTTP 404)');
    await expect(downloads.fetchAll([{ uri: 's3://no-such-bucket/a.art', sha256, s3: at }])).rejects.toThrow('router artifact s3://no-such-bucket/a.art: S3 NoSuchBucket (HTTP 404)');
    await expect(downloads.fetchAll([{ uri: 's3://routers/v2/picker.art', sha256, s3: at }])).rejects.toThrow(`router artifact s3://routers/v2/picker.art: ${inverted.bytes.length} bytes is over the 1024-byte limit`);
    const refused = downloads.fetchAll([{ uri: 's3://routers/v2/picker.art', sha256, s3: { ...access, endpoint: 'http://127.0.0.1:1' } }]);
    await expect(refused).rejects.toThrow(/^router artifact s3:\/\/routers\/v2\/picker\.art: download failed \(/);
    await expect(refused).rejects.not.toThrow(S3_CREDENTIALS.secretAccessKey);
  });
});
