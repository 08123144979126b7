import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import wabtInit from 'wabt';
import { seededRandom } from '../../../seeded-random.js';
import { FirstLayer, Int8FirstLayer, quantizeRows } from './first-layer.js';
import { firstLayerWasm } from './first-layer-wasm.js';

const here = dirname(fileURLToPath(import.meta.url));

/** The plain loop the kernel must match exactly. */
function reference(w: Float32Array, hidden: number, bias: Float32Array, indices: Int32Array, values: Float32Array, start: number, end: number): Float64Array {
  const out = Float64Array.from(bias);
  for (let q = start; q < end; q++) for (let u = 0; u < hidden; u++) out[u]! += values[q]! * w[indices[q]! * hidden + u]!;
  return out;
}

function problem(hidden: number, dim: number, seed: number): { w: Float32Array; bias: Float32Array; indices: Int32Array; values: Float32Array } {
  const random = seededRandom(seed);
  const w = Float32Array.from({ length: dim * hidden }, () => random() * 2 - 1);
  const bias = Float32Array.from({ length: hidden }, () => random() - 0.5);
  const indices = Int32Array.from({ length: 300 }, () => Math.floor(random() * dim)).sort();
  const values = Float32Array.from(indices, () => random());
  return { w, bias, indices, values };
}

describe('neural first layer', () => {
  it('embeds the bytes that first-layer.wat compiles to (rerun dataplane/scripts/build-first-layer-wasm.js after editing it)', async () => {
    const wabt = await wabtInit();
    const module = wabt.parseWat('first-layer.wat', readFileSync(join(here, 'first-layer.wat'), 'utf8'), { simd: true });
    expect(Buffer.from(module.toBinary({}).buffer).toString('base64')).toBe(firstLayerWasm);
    module.destroy();
  });

  it.each([64, 32, 2, 7, 1])('gives exactly the plain loop’s sums with %i hidden units, over a whole vector and an odd-length row range', (hidden) => {
    const { w, bias, indices, values } = problem(hidden, 4096, hidden);
    const layer = new FirstLayer(w, hidden);
    const out = new Float64Array(hidden);
    layer.apply(bias, indices, values, 0, indices.length, out);
    expect(Array.from(out)).toEqual(Array.from(reference(w, hidden, bias, indices, values, 0, indices.length)));
    layer.apply(bias, indices, values, 41, 170, out);
    expect(Array.from(out)).toEqual(Array.from(reference(w, hidden, bias, indices, values, 41, 170)));
  });

  it('exposes weights that the kernel reads, so updates in place (training) take effect', () => {
    const { w, bias, indices, values } = problem(16, 512, 3);
    const layer = new FirstLayer(w, 16);
    layer.weights[indices[0]! * 16] = 1000;
    const out = new Float64Array(16);
    layer.apply(bias, indices, values, 0, 1, out);
    expect(out[0]).toBe(bias[0]! + values[0]! * 1000);
  });
});

/** The int8 layer's float32 sums, written out plainly: what kernel and scalar loop must both give. */
function int8Reference(layer: Int8FirstLayer, hidden: number, bias: Float32Array, indices: Int32Array, values: Float32Array): Float64Array {
  const sums = Float32Array.from(bias);
  indices.forEach((j, q) => {
    const x = Math.fround(values[q]! * layer.scales[j]!);
    for (let u = 0; u < hidden; u++) sums[u] = Math.fround(sums[u]! + Math.fround(x * layer.weights[j * hidden + u]!));
  });
  return Float64Array.from(sums);
}

describe('int8 first layer', () => {
  it('quantizes each row to int8 multiples of a per-row scale, the largest magnitude at 127, within half a step', () => {
    const w = Float32Array.from([0.5, -1, 0.25, 0, 0, 0, 0, 0, 3, 2.9, -0.01, 1e-6]);
    const into = { weights: new Int8Array(w.length), scales: new Float32Array(3) };
    quantizeRows(w, 4, into);
    expect(Array.from(into.scales)).toEqual([Math.fround(1 / 127), 0, Math.fround(3 / 127)]);
    expect(Array.from(into.weights.subarray(0, 8))).toEqual([64, -127, 32, 0, 0, 0, 0, 0]);
    expect(into.weights[8]).toBe(127);
    w.forEach((v, i) => expect(Math.abs(v - into.scales[Math.floor(i / 4)]! * into.weights[i]!)).toBeLessThanOrEqual(into.scales[Math.floor(i / 4)]! / 2 + 1e-9));
  });

  it.each([64, 32, 16, 24, 7])('with %i hidden units gives exactly the plain float32 loop over its int8 weights, close to the float32 layer', (hidden) => {
    const { w, bias, indices, values } = problem(hidden, 4096, 100 + hidden);
    const layer = new Int8FirstLayer(w, hidden);
    const out = new Float64Array(hidden);
    layer.apply(bias, indices, values, 0, indices.length, out);
    expect(Array.from(out)).toEqual(Array.from(int8Reference(layer, hidden, bias, indices, values)));
    // Each weight is off by at most half a step (1/254 of its row's largest |w| <= 1), over 300 features with values < 1.
    const exact = reference(w, hidden, bias, indices, values, 0, indices.length);
    out.forEach((v, u) => expect(Math.abs(v - exact[u]!)).toBeLessThan(300 / 254));
    const typical = out.reduce((s, v, u) => s + Math.abs(v - exact[u]!), 0) / hidden;
    expect(typical).toBeLessThan(0.05);
  });

  it('is reused across queries: a shorter query after a longer one reads only its own features', () => {
    const { w, bias, indices, values } = problem(32, 1024, 9);
    const layer = new Int8FirstLayer(w, 32);
    const out = new Float64Array(32);
    layer.apply(bias, indices, values, 0, indices.length, out);
    layer.apply(bias, indices.subarray(0, 5), values.subarray(0, 5), 0, 5, out);
    expect(Array.from(out)).toEqual(Array.from(int8Reference(layer, 32, bias, indices.subarray(0, 5), values.subarray(0, 5))));
  });

  it('reads only the features in [start, end), as the float32 layer does', () => {
    const { w, bias, indices, values } = problem(32, 1024, 11);
    const layer = new Int8FirstLayer(w, 32);
    const out = new Float64Array(32);
    layer.apply(bias, indices, values, 41, 170, out);
    expect(Array.from(out)).toEqual(Array.from(int8Reference(layer, 32, bias, indices.subarray(41, 170), values.subarray(41, 170))));
  });
});
