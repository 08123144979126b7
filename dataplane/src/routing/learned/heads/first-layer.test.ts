import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import wabtInit from 'wabt';
import { seededRandom } from '../../../seeded-random.js';
import { FirstLayer } from './first-layer.js';
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
