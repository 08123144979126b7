import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { KubeClient } from '../runtime/index.js';
import type { ObjectWriter } from './apply.js';
import { configMapVersion, decodeInlineArtifact, MAX_INLINE_BYTES, planArtifact, routingModelReconciler, routingModelsReferencing, routingModelStatus, type RoutingModelObject } from './routing-model.js';

const rm = (artifact: unknown, spec: Record<string, unknown> = {}): RoutingModelObject => ({
  apiVersion: 'switchboard.dev/v1alpha1',
  kind: 'RoutingModel',
  metadata: { name: 'picker', namespace: 'team', uid: 'u2', generation: 1 },
  spec: { router: 'elo', candidates: [{ name: 'a' }, { name: 'b' }], decision: { threshold: 0.5 }, artifact, ...spec },
});

/** A router artifact as far as the operator reads it: magic, version, header length, JSON header, then payload bytes. */
function artifactBytes(header: { kind?: string; featurizer?: { type: string; params: Record<string, unknown> }; models?: string[] } = {}): Buffer {
  const json = Buffer.from(JSON.stringify({ kind: 'elo', featurizer: { type: 'hashed', params: { dim: 1024 } }, models: ['a', 'b'], ...header }));
  const prefix = Buffer.alloc(16);
  prefix.write('SWBROUTE', 0, 'latin1');
  prefix.writeUInt32LE(1, 8);
  prefix.writeUInt32LE(json.length, 12);
  return Buffer.concat([prefix, json, Buffer.from('payload')]);
}
const ARTIFACT = artifactBytes();
const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

describe('inline artifacts', () => {
  it('accepts canonical base64 up to the size limit and rejects the rest', () => {
    const ok = decodeInlineArtifact(Buffer.from('hello').toString('base64'));
    expect(ok).toEqual({ ok: true, bytes: Buffer.from('hello'), sha256: createHash('sha256').update('hello').digest('hex') });
    expect(decodeInlineArtifact('QUJ')).toMatchObject({ ok: false, message: expect.stringContaining('not valid base64') });
    expect(decodeInlineArtifact('QR==')).toMatchObject({ ok: false, message: 'spec.artifact.inline is not canonical base64' });
    expect(decodeInlineArtifact(Buffer.alloc(MAX_INLINE_BYTES).toString('base64')).ok).toBe(true);
    expect(decodeInlineArtifact(Buffer.alloc(MAX_INLINE_BYTES + 3).toString('base64'))).toMatchObject({ ok: false, message: expect.stringContaining('at most 49152 may be inline') });
  });

  it('packs the artifact gzip-compressed, deterministically, with its digest', () => {
    const plan = planArtifact(rm({ inline: ARTIFACT.toString('base64') }), undefined);
    expect(plan).toMatchObject({ ok: true, reason: 'ArtifactPacked' });
    if (!plan.ok || !plan.configMap) throw new Error('expected a ConfigMap');
    const cm = plan.configMap as { binaryData: Record<string, string> } & typeof plan.configMap;
    expect(cm.metadata).toMatchObject({ name: 'picker-artifact', namespace: 'team', ownerReferences: [{ kind: 'RoutingModel', name: 'picker', uid: 'u2', controller: true }] });
    expect(gunzipSync(Buffer.from(cm.binaryData['artifact.gz']!, 'base64'))).toEqual(ARTIFACT);
    expect(planArtifact(rm({ inline: ARTIFACT.toString('base64') }), undefined)).toEqual(plan);
  });
});

describe('referenced artifacts', () => {
  it('checks a configMapRef exists and holds the key (data or binaryData)', () => {
    const ref = rm({ configMapRef: { name: 'trained', key: 'm' } });
    // Not retried with backoff: the ConfigMap watch brings the model back when the ConfigMap changes.
    expect(planArtifact(ref, undefined)).toMatchObject({ ok: false, reason: 'ConfigMapNotFound', retry: false });
    expect(planArtifact(ref, { data: { other: 'x' } })).toMatchObject({ ok: false, reason: 'ConfigMapKeyNotFound', retry: false });
    expect(planArtifact(ref, { data: { m: ARTIFACT.toString('latin1') } })).toMatchObject({ ok: true, sha256: sha(Buffer.from(ARTIFACT.toString('latin1'), 'utf8')) });
    expect(planArtifact(ref, { binaryData: { m: ARTIFACT.toString('base64') } })).toMatchObject({ ok: true, sha256: sha(ARTIFACT) });
    // gzip is hashed uncompressed: the digest of what the data plane loads.
    expect(planArtifact(ref, { binaryData: { m: gzipSync(ARTIFACT).toString('base64') } })).toMatchObject({ ok: true, sha256: sha(ARTIFACT) });
    expect(planArtifact(ref, { data: { m: 'abc' } })).toMatchObject({ ok: false, reason: 'InvalidArtifact', message: 'ConfigMap team/trained key "m" (spec.artifact.configMapRef) is not a Switchboard router artifact (no "SWBROUTE" magic bytes at the start)' });
    expect(planArtifact(ref, { binaryData: { m: Buffer.from([0x1f, 0x8b, 1, 2]).toString('base64') } })).toMatchObject({ ok: false, reason: 'InvalidArtifact', retry: false });
  });

  it('maps a changed ConfigMap to the RoutingModels referencing it, and caches no data', () => {
    const models = [rm({ configMapRef: { name: 'trained', key: 'm' } }), { ...rm({ configMapRef: { name: 'trained', key: 'm' } }), metadata: { name: 'elsewhere', namespace: 'other' } }, { ...rm({ inline: 'QUJD' }), metadata: { name: 'inline', namespace: 'team' } }];
    expect(routingModelsReferencing({ metadata: { name: 'trained', namespace: 'team' } }, models)).toEqual(['team/picker']);
    expect(routingModelsReferencing({ metadata: { name: 'unrelated', namespace: 'team' } }, models)).toEqual([]);
    const cached = configMapVersion({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trained', namespace: 'team', uid: 'u', resourceVersion: '7', annotations: { a: 'b' } }, data: { m: 'x' } } as never);
    expect(cached).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trained', namespace: 'team', uid: 'u', resourceVersion: '7' } });
  });

  it('records a URI and its sha256 as given', () => {
    expect(planArtifact(rm({ uri: 's3://bucket/m.bin', sha256: 'b'.repeat(64) }), undefined)).toMatchObject({ ok: true, reason: 'ArtifactReferenced', sha256: 'b'.repeat(64) });
  });

  it('keeps the last artifact digest and the evaluation when the artifact becomes invalid', () => {
    const good = routingModelStatus(undefined, 1, { ok: true, reason: 'ArtifactReferenced', message: 'm', sha256: 'c'.repeat(64) }, 0);
    const withEval = { ...good, evaluation: { quality: 0.8, cost: 0.001, n: 100 } };
    const bad = routingModelStatus(withEval, 2, { ok: false, reason: 'InvalidArtifact', message: 'bad', retry: false }, 1000);
    expect(bad).toMatchObject({ observedGeneration: 2, artifactSha256: 'c'.repeat(64), evaluation: { quality: 0.8 } });
    expect(bad.conditions).toEqual([{ type: 'Ready', status: 'False', reason: 'InvalidArtifact', message: 'bad', observedGeneration: 2, lastTransitionTime: '1970-01-01T00:00:01Z' }]);
  });
});

describe('the spec held to the artifact', () => {
  const plan = (spec: Record<string, unknown>, bytes: Buffer = ARTIFACT) => planArtifact(rm({ inline: bytes.toString('base64') }, spec), undefined);

  it('accepts an artifact matching the head, featurizer and candidates; the featurizer may be left to the artifact', () => {
    expect(plan({})).toMatchObject({ ok: true });
    expect(plan({ featurizer: { type: 'hashed', dimensions: 1024 } })).toMatchObject({ ok: true });
    expect(plan({ featurizer: { type: 'hashed' } })).toMatchObject({ ok: true });
  });

  it('names the field that disagrees with the artifact', () => {
    const invalid = (message: string) => ({ ok: false, reason: 'InvalidArtifact', retry: false, message });
    expect(plan({ featurizer: { type: 'onnx', dimensions: 1024 } }, artifactBytes({ featurizer: { type: 'onnx', params: { dim: 384 } } }))).toEqual(
      invalid("spec.featurizer.dimensions is 1024 but the artifact's featurizer has 384"),
    );
    expect(plan({ featurizer: { type: 'onnx' } })).toEqual(invalid('spec.featurizer.type is onnx but the artifact was trained with the hashed featurizer'));
    expect(plan({ router: 'knn' })).toEqual(invalid("spec.router is knn but the artifact's head is elo"));
    expect(plan({ featurizer: { type: 'http', url: 'http://e/v1' } })).toEqual(invalid('spec.featurizer.type is http but the artifact was trained with the hashed featurizer'));
    expect(plan({ candidates: [{ name: 'a' }, { name: 'c' }] })).toEqual(invalid('spec.candidates[1].name "c" is not a model of the artifact (it knows a, b); name the artifact\'s model in artifactModel'));
    expect(plan({ candidates: [{ name: 'a' }, { name: 'c', artifactModel: 'd' }] })).toEqual(invalid('spec.candidates[1].artifactModel "d" is not a model of the artifact (it knows a, b); name the artifact\'s model in artifactModel'));
  });

  it('accepts candidates named after aliases through artifactModel, and a gzip-compressed inline artifact', () => {
    expect(plan({ candidates: [{ name: 'fast', artifactModel: 'a' }, { name: 'smart', artifactModel: 'b' }] })).toMatchObject({ ok: true });
    expect(plan({}, gzipSync(ARTIFACT))).toMatchObject({ ok: true });
    expect(plan({}, Buffer.from('not an artifact'))).toMatchObject({ ok: false, reason: 'InvalidArtifact', message: expect.stringContaining('spec.artifact.inline is not a Switchboard router artifact') });
  });
});

describe('the reconciler', () => {
  it('reads a referenced ConfigMap once per reconcile and asks for no requeue: the ConfigMap watch brings it back', async () => {
    const model = rm({ configMapRef: { name: 'trained', key: 'm' } });
    const reads: string[] = [];
    const statuses: unknown[] = [];
    const client = { request: async (_method: string, path: string) => (reads.push(path), { binaryData: { m: ARTIFACT.toString('base64') } }) } as unknown as KubeClient;
    const writer = {
      apply: async () => true,
      deleteOwned: async () => false,
      writeStatus: async (_kind: unknown, obj: RoutingModelObject, next: (current: RoutingModelObject) => unknown) => (statuses.push(next(obj)), true),
    } as unknown as ObjectWriter;
    const reconcile = routingModelReconciler({ client, writer, routingModels: { get: () => model } as never });
    const result = await reconcile('team/picker', { key: 'team/picker', namespace: 'team', name: 'picker', retries: 0, signal: new AbortController().signal });
    expect(result).toBeUndefined();
    expect(reads).toEqual(['/api/v1/namespaces/team/configmaps/trained']);
    expect(statuses).toEqual([expect.objectContaining({ artifactSha256: sha(ARTIFACT) })]);
  });
});
