import { describe, expect, it } from '@jest/globals';
import { defaultHashedParams, HashedFeaturizer } from './featurizer.js';

function dot(a: { indices: Int32Array; values: Float32Array }, b: { indices: Int32Array; values: Float32Array }): number {
  const m = new Map<number, number>();
  a.indices.forEach((j, i) => m.set(j, a.values[i]!));
  let s = 0;
  b.indices.forEach((j, i) => (s += (m.get(j) ?? 0) * b.values[i]!));
  return s;
}

describe('hashed featurizer', () => {
  it('maps the same text to the same vector, across instances', () => {
    const a = new HashedFeaturizer().featurize('Solve the integral of x^2 dx');
    const b = new HashedFeaturizer().featurize('Solve the integral of x^2 dx');
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
  });

  it('produces sorted unique indices within the dimension and a unit-length vector', () => {
    const v = new HashedFeaturizer().featurize('Write a Python function that reverses a linked list, please.');
    for (let i = 1; i < v.indices.length; i++) expect(v.indices[i]!).toBeGreaterThan(v.indices[i - 1]!);
    expect(v.indices[v.indices.length - 1]!).toBeLessThan(defaultHashedParams.dim);
    expect(Array.from(v.values).reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 5);
  });

  it('is case-insensitive and ignores punctuation between words', () => {
    const f = new HashedFeaturizer();
    expect(dot(f.featurize('Hello, World!'), f.featurize('hello world'))).toBeCloseTo(1, 5);
  });

  it('keeps a stable hash layout so stored artifacts stay valid (golden indices)', () => {
    const v = new HashedFeaturizer({ ...defaultHashedParams, charNgrams: [0, 0], wordNgrams: [1, 1] }).featurize('alpha beta');
    expect(Array.from(v.indices)).toEqual([8075, 15451]);
  });

  it('makes similar texts closer than unrelated ones', () => {
    const f = new HashedFeaturizer();
    const a = f.featurize('compute the derivative of sin(x) times x');
    const b = f.featurize('find the derivative of cos(x) times x squared');
    const c = f.featurize('write a javascript class with a constructor');
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.1);
  });

  it('handles empty, non-Latin and very long text', () => {
    const f = new HashedFeaturizer();
    expect(f.featurize('').indices.length).toBe(0);
    expect(f.featurize('Привет мир 你好').indices.length).toBeGreaterThan(0);
    const long = f.featurize('word '.repeat(100_000));
    expect(long.indices.length).toBeGreaterThan(0);
  });

  it('down-weights n-grams that every document shares once the IDF is fitted', () => {
    const f = HashedFeaturizer.fit(['the cat', 'the dog', 'the bird', 'the fish']);
    const v = f.featurize('the zebra');
    const plain = new HashedFeaturizer({ ...defaultHashedParams }).featurize('the zebra');
    const weightOfThe = (x: typeof v): number => {
      const only = new HashedFeaturizer({ ...defaultHashedParams, charNgrams: [0, 0], wordNgrams: [1, 1] }).featurize('the');
      return dot(x, only);
    };
    expect(weightOfThe(v)).toBeLessThan(weightOfThe(plain));
  });

  it('rejects a dimension that is not a power of two, naming the parameter', () => {
    expect(() => new HashedFeaturizer({ ...defaultHashedParams, dim: 1000 })).toThrow(/dim: got 1000; expected a power of two/);
  });
});
