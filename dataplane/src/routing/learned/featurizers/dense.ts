// Dense embeddings as the sparse rows every head reads: the nonzero components with their
// positions. A 384-dimensional embedding is a 384-term "document", so the heads need no second path.
import type { SparseVector } from '../sparse.js';

/** Scales `v` to unit length in place (a zero vector stays zero) and returns it. */
export function normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= scale;
  }
  return v;
}

/** The nonzero components of `v`, in order. */
export function denseRow(v: Float32Array): SparseVector {
  let nonzero = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) nonzero++;
  const indices = new Int32Array(nonzero);
  const values = new Float32Array(nonzero);
  for (let i = 0, at = 0; i < v.length; i++) {
    if (v[i] === 0) continue;
    indices[at] = i;
    values[at++] = v[i]!;
  }
  return { indices, values };
}

/** The mean over the first axis of a [tokens, dim] row-major matrix (every token attended). */
export function meanPool(hidden: Float32Array, tokens: number, dim: number): Float32Array {
  const out = new Float32Array(dim);
  for (let t = 0; t < tokens; t++) for (let d = 0; d < dim; d++) out[d]! += hidden[t * dim + d]!;
  for (let d = 0; d < dim; d++) out[d]! /= tokens;
  return out;
}
