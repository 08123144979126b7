// The RoutingModel reconciler on a real kube-apiserver: inline artifacts packed (gzip) into an
// owned ConfigMap, configMapRef checked and followed through the ConfigMap watch, URIs recorded as given.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { LearnedRouter } from '../../dataplane/src/routing/learned/index.js';
import type { KubeObject } from '../../operator/src/runtime/index.js';
import { condition, namespace, paths, startOperator, waitFor, type ConditionView, type OperatorUnderTest } from './support.js';

const TIMEOUT = 60_000;
const NS = 'rm-cases';

interface RoutingModelView extends KubeObject {
  status?: { observedGeneration?: number; artifactSha256?: string; conditions?: ConditionView[] };
}

type ConfigMapView = KubeObject & { binaryData?: Record<string, string> };

/** A real Elo artifact over fast and smart; `smartWins` changes its bytes. */
const eloArtifact = (smartWins = 1): Buffer => {
  const examples = ['hi', 'prove it', 'sum 2+2', 'write a poem'].map((query, i) => ({ query, scores: { fast: i < smartWins ? 0 : 1, smart: i < smartWins ? 1 : 0 } }));
  return Buffer.from(LearnedRouter.train(examples, { fast: { input: 0.1, output: 0.2 }, smart: { input: 1, output: 2 } }, { kind: 'elo', seed: 1, featurizer: { dim: 256 } }).encode().bytes);
};

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
    const artifact = eloArtifact();
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

  it('a missing configMapRef: ConfigMapNotFound, then Ready once the ConfigMap appears, following each new artifact', async () => {
    await op.apply(routingModel('referenced', { configMapRef: { name: 'trained', key: 'model.bin' } }));
    const blocked = await readyReason('referenced', 'ConfigMapNotFound');
    expect(condition(blocked, 'Ready')?.message).toBe('ConfigMap rm-cases/trained not found (referenced by spec.artifact.configMapRef)');
    const trained = (bytes: Buffer) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trained', namespace: NS }, binaryData: { 'model.bin': bytes.toString('base64') } });
    const first = eloArtifact(1);
    await op.apply(trained(first));
    const ready = await readyReason('referenced', 'ArtifactReferenced');
    expect(ready.status?.artifactSha256).toBe(createHash('sha256').update(first).digest('hex'));
    // The ConfigMap watch (not a poll) brings the next artifact into the status.
    const second = eloArtifact(3);
    await op.apply(trained(second));
    const secondSha = createHash('sha256').update(second).digest('hex');
    await waitFor('the new artifact digest', async () => ((await rmOf('referenced'))?.status?.artifactSha256 === secondSha ? true : undefined));
  }, TIMEOUT);

  it('a spec that disagrees with its artifact: InvalidArtifact naming the field', async () => {
    await op.apply({ ...routingModel('mismatch', { inline: eloArtifact().toString('base64') }), spec: { ...routingModel('mismatch', {}).spec, router: 'knn', artifact: { inline: eloArtifact().toString('base64') } } });
    const rm = await readyReason('mismatch', 'InvalidArtifact');
    expect(condition(rm, 'Ready')).toMatchObject({ status: 'False', message: "spec.router is knn but the artifact's head is elo" });
    expect(await op.get(paths.configMap(NS, 'mismatch-artifact'))).toBeUndefined();
  }, TIMEOUT);
});
