import { describe, expect, it } from '@jest/globals';
import { ArtifactError, decodeArtifact, encodeArtifact, type ArtifactMeta } from './artifact.js';

const meta: ArtifactMeta = {
  kind: 'test',
  featurizer: { type: 'hashed', params: { dim: 4 } },
  models: ['a', 'b'],
  prices: { a: { input: 1, output: 2 }, b: { input: 0.1, output: 0.2 } },
  head: { params: { k: 3 } },
  training: { n: 2, seed: 7, folds: 0 },
};

function sample(): Uint8Array {
  return encodeArtifact(meta, [
    { name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
    { name: 'i', shape: [3], data: Int32Array.from([7, -1, 2 ** 30]) },
  ]).bytes;
}

describe('router artifact', () => {
  it('round-trips the header and every tensor exactly', () => {
    const a = decodeArtifact(sample());
    expect(a.header).toMatchObject({ ...meta, version: 1 });
    expect(a.header.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['w', 'float32', [2, 3]],
      ['i', 'int32', [3]],
    ]);
    expect(Array.from(a.tensors.get('w')!.data)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(Array.from(a.tensors.get('i')!.data)).toEqual([7, -1, 2 ** 30]);
  });

  it('reports the sha256 of the whole file, the same on encode and decode', () => {
    const { bytes, digest } = encodeArtifact(meta, [{ name: 'w', shape: [1], data: Float32Array.from([1]) }]);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(decodeArtifact(bytes).digest).toBe(digest);
  });

  it('is byte-for-byte deterministic', () => {
    expect(Buffer.from(sample()).equals(Buffer.from(sample()))).toBe(true);
  });

  it('rejects a file that is not an artifact', () => {
    expect(() => decodeArtifact(new TextEncoder().encode('{"kind":"knn"}'))).toThrow(/not a Switchboard router artifact: expected the magic bytes "SWBROUTE"/);
    expect(() => decodeArtifact(new Uint8Array(0))).toThrow(ArtifactError);
  });

  it('rejects another format version, saying which versions are involved', () => {
    const bytes = sample();
    new DataView(bytes.buffer).setUint32(8, 2, true);
    expect(() => decodeArtifact(bytes)).toThrow(/format version 2 is not supported; this build reads version 1/);
  });

  it('rejects a corrupt payload by its checksum', () => {
    const bytes = sample();
    bytes[bytes.length - 5]! ^= 0xff;
    expect(() => decodeArtifact(bytes)).toThrow(/payload is corrupt: its sha256 does not match/);
  });

  it('rejects a corrupt or truncated header', () => {
    const bytes = sample();
    bytes[17] = 0x7b; // '{' inside the JSON
    expect(() => decodeArtifact(bytes)).toThrow(/header is corrupt/);
    expect(() => decodeArtifact(sample().subarray(0, 40))).toThrow(/truncated/);
  });

  it('refuses to encode a tensor whose shape does not match its data', () => {
    expect(() => encodeArtifact(meta, [{ name: 'w', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/tensor w: shape \[2,2\] holds 4 values but the data has 3/);
  });
});
