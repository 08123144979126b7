import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodeInlineArtifact, MAX_INLINE_BYTES, planArtifact, routingModelStatus, type RoutingModelObject } from './routing-model.js';

const rm = (artifact: unknown): RoutingModelObject => ({
  apiVersion: 'switchboard.dev/v1alpha1',
  kind: 'RoutingModel',
  metadata: { name: 'picker', namespace: 'team', uid: 'u2', generation: 1 },
  spec: { router: 'elo', candidates: [{ name: 'a' }, { name: 'b' }], decision: { threshold: 0.5 }, artifact },
});

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
    const plan = planArtifact(rm({ inline: Buffer.from('{"k":1}').toString('base64') }), undefined);
    expect(plan).toMatchObject({ ok: true, reason: 'ArtifactPacked' });
    if (!plan.ok || !plan.configMap) throw new Error('expected a ConfigMap');
    const cm = plan.configMap as { binaryData: Record<string, string> } & typeof plan.configMap;
    expect(cm.metadata).toMatchObject({ name: 'picker-artifact', namespace: 'team', ownerReferences: [{ kind: 'RoutingModel', name: 'picker', uid: 'u2', controller: true }] });
    expect(gunzipSync(Buffer.from(cm.binaryData['artifact.gz']!, 'base64')).toString()).toBe('{"k":1}');
    expect(planArtifact(rm({ inline: Buffer.from('{"k":1}').toString('base64') }), undefined)).toEqual(plan);
  });
});

describe('referenced artifacts', () => {
  it('checks a configMapRef exists and holds the key (data or binaryData)', () => {
    const ref = rm({ configMapRef: { name: 'trained', key: 'm' } });
    expect(planArtifact(ref, undefined)).toMatchObject({ ok: false, reason: 'ConfigMapNotFound', retry: true });
    expect(planArtifact(ref, { data: { other: 'x' } })).toMatchObject({ ok: false, reason: 'ConfigMapKeyNotFound', retry: true });
    expect(planArtifact(ref, { data: { m: 'abc' } })).toMatchObject({ ok: true, sha256: createHash('sha256').update('abc').digest('hex') });
    expect(planArtifact(ref, { binaryData: { m: Buffer.from('abc').toString('base64') } })).toMatchObject({ ok: true, sha256: createHash('sha256').update('abc').digest('hex') });
    // gzip is hashed uncompressed: the digest of what the data plane loads.
    expect(planArtifact(ref, { binaryData: { m: gzipSync('abc').toString('base64') } })).toMatchObject({ ok: true, sha256: createHash('sha256').update('abc').digest('hex') });
    expect(planArtifact(ref, { binaryData: { m: Buffer.from([0x1f, 0x8b, 1, 2]).toString('base64') } })).toMatchObject({ ok: false, reason: 'InvalidArtifact', retry: false });
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
