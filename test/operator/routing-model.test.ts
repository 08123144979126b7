// The RoutingModel reconciler on a real kube-apiserver: inline artifacts packed (gzip) into an
// owned ConfigMap, configMapRef checked and retried until it exists, URIs recorded as given.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { KubeObject } from '../../operator/src/runtime/index.js';
import { condition, namespace, paths, startOperator, waitFor, type ConditionView, type OperatorUnderTest } from './support.js';

const TIMEOUT = 60_000;
const NS = 'rm-cases';

interface RoutingModelView extends KubeObject {
  status?: { observedGeneration?: number; artifactSha256?: string; conditions?: ConditionView[] };
}

type ConfigMapView = KubeObject & { binaryData?: Record<string, string> };

const routingModel = (name: string, artifact: Record<string, unknown>) => ({
  apiVersion: 'switchboard.dev/v1alpha1',
  kind: 'RoutingModel',
  metadata: { name, namespace: NS },
  spec: { router: 'elo', candidates: [{ name: 'fast' }, { name: 'smart' }], decision: { threshold: 0.5 }, artifact },
});

describe('RoutingModel reconciler on a real kube-apiserver', () => {
  let op: OperatorUnderTest;

  beforeAll(async () => {
    op = await startOperator();
    await op.apply(namespace(NS));
  }, TIMEOUT * 2);

  afterAll(async () => {
    await op?.stop();
  }, TIMEOUT);

  const rmOf = (name: string) => op.get<RoutingModelView>(paths.routingModel(NS, name));
  const readyReason = (name: string, reason: string) =>
    waitFor(`${name} Ready reason ${reason}`, async () => {
      const rm = await rmOf(name);
      return condition(rm, 'Ready')?.reason === reason ? rm : undefined;
    });

  it('packs an inline artifact, gzip-compressed, into the owned <name>-artifact ConfigMap', async () => {
    const artifact = Buffer.from(JSON.stringify({ ratings: { fast: 1000, smart: 1120 } }));
    await op.apply(routingModel('elo', { inline: artifact.toString('base64') }));
    const rm = await readyReason('elo', 'ArtifactPacked');
    const sha = createHash('sha256').update(artifact).digest('hex');
    expect(rm.status).toMatchObject({ observedGeneration: 1, artifactSha256: sha });
    expect(condition(rm, 'Ready')?.status).toBe('True');
    const cm = (await op.get<ConfigMapView>(paths.configMap(NS, 'elo-artifact')))!;
    expect(gunzipSync(Buffer.from(cm.binaryData!['artifact.gz']!, 'base64'))).toEqual(artifact);
    expect(cm.metadata?.annotations?.['switchboard.dev/artifact-sha256']).toBe(sha);
    expect(cm.metadata?.ownerReferences).toEqual([{ apiVersion: 'switchboard.dev/v1alpha1', kind: 'RoutingModel', name: 'elo', uid: rm.metadata?.uid, controller: true, blockOwnerDeletion: true }]);

    // Switching to a URI records it as given and removes the packed copy.
    const uriSha = 'a'.repeat(64);
    await op.apply(routingModel('elo', { uri: 'https://models.example/elo.json', sha256: uriSha }));
    const moved = await readyReason('elo', 'ArtifactReferenced');
    expect(moved.status).toMatchObject({ observedGeneration: 2, artifactSha256: uriSha });
    await waitFor('artifact ConfigMap deleted', async () => (await op.get(paths.configMap(NS, 'elo-artifact'))) === undefined);
  }, TIMEOUT);

  it('rejects inline data that is not canonical base64 without writing anything', async () => {
    await op.apply(routingModel('broken', { inline: 'QUJ' }));
    const rm = await readyReason('broken', 'InvalidArtifact');
    expect(condition(rm, 'Ready')).toMatchObject({ status: 'False', observedGeneration: 1 });
    expect(condition(rm, 'Ready')?.message).toContain('not valid base64');
    expect(await op.get(paths.configMap(NS, 'broken-artifact'))).toBeUndefined();
  }, TIMEOUT);

  it('a missing configMapRef: ConfigMapNotFound, then Ready once the ConfigMap appears', async () => {
    await op.apply(routingModel('referenced', { configMapRef: { name: 'trained', key: 'model.json' } }));
    const blocked = await readyReason('referenced', 'ConfigMapNotFound');
    expect(condition(blocked, 'Ready')?.message).toBe('ConfigMap rm-cases/trained not found (referenced by spec.artifact.configMapRef)');
    const body = '{"weights":[1,2,3]}';
    await op.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trained', namespace: NS }, data: { 'model.json': body } });
    const ready = await readyReason('referenced', 'ArtifactReferenced');
    expect(ready.status?.artifactSha256).toBe(createHash('sha256').update(body).digest('hex'));
  }, TIMEOUT);
});
