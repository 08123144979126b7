// Linear head: one ridge regression per model on the sparse features, solved together by
// conjugate gradient on the normal equations (X'X + alpha I) w = X'(y - mean).
import { tensor, type Artifact, type Tensor } from '../artifact.js';
import type { SparseVector } from '../sparse.js';
import { clamp01, modelMeans, numberParam, type RouterHead, type TrainingSet } from './head.js';

export interface LinearParams {
  /** L2 penalty. */
  alpha: number;
  /** Conjugate-gradient iterations at most. */
  iterations: number;
}

export const defaultLinearParams: LinearParams = { alpha: 10, iterations: 60 };

export function linearParams(raw: Record<string, unknown>): LinearParams {
  return {
    alpha: numberParam(raw, 'alpha', defaultLinearParams.alpha, (v) => v > 0, 'a number > 0'),
    iterations: numberParam(raw, 'iterations', defaultLinearParams.iterations, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
  };
}

export class LinearHead implements RouterHead {
  readonly kind = 'linear';
  readonly readsFeatures = true;
  readonly modelCount: number;
  /** weights[j * models + k]: feature j's weight for model k, so a feature's weights are contiguous. */
  private readonly weights: Float32Array;
  private readonly bias: Float32Array;
  private readonly p: LinearParams;

  constructor(weights: Float32Array, bias: Float32Array, params: LinearParams) {
    this.weights = weights;
    this.bias = bias;
    this.modelCount = bias.length;
    this.p = params;
  }

  static train(set: TrainingSet, raw: Record<string, unknown> = {}): LinearHead {
    const p = linearParams(raw);
    const m = set.models.length;
    const { dim, indptr, indices, values } = set.rows;
    const n = indptr.length - 1;
    const mean = modelMeans(set);
    // Centred targets; an unscored pair contributes nothing (target = the mean).
    const y = new Float64Array(n * m);
    for (let i = 0; i < n * m; i++) {
      const t = set.targets[i]!;
      y[i] = Number.isNaN(t) ? 0 : t - mean[i % m]!;
    }
    const u = new Float64Array(n * m);
    // out = X' (X v) + alpha v, for all models at once.
    const normal = (v: Float64Array, out: Float64Array): void => {
      u.fill(0);
      for (let r = 0; r < n; r++) {
        const ur = r * m;
        for (let q = indptr[r]!; q < indptr[r + 1]!; q++) {
          const jm = indices[q]! * m;
          const x = values[q]!;
          for (let k = 0; k < m; k++) u[ur + k]! += x * v[jm + k]!;
        }
      }
      for (let i = 0; i < v.length; i++) out[i] = p.alpha * v[i]!;
      for (let r = 0; r < n; r++) {
        const ur = r * m;
        for (let q = indptr[r]!; q < indptr[r + 1]!; q++) {
          const jm = indices[q]! * m;
          const x = values[q]!;
          for (let k = 0; k < m; k++) out[jm + k]! += x * u[ur + k]!;
        }
      }
    };
    const size = dim * m;
    const w = new Float64Array(size);
    const r = new Float64Array(size); // residual: X'y - A w, with w = 0
    for (let row = 0; row < n; row++) {
      for (let q = indptr[row]!; q < indptr[row + 1]!; q++) {
        const jm = indices[q]! * m;
        for (let k = 0; k < m; k++) r[jm + k]! += values[q]! * y[row * m + k]!;
      }
    }
    const d = Float64Array.from(r);
    const ad = new Float64Array(size);
    const rr = perModelDot(r, r, m);
    const start = rr.map(Math.sqrt);
    for (let it = 0; it < p.iterations; it++) {
      normal(d, ad);
      const dad = perModelDot(d, ad, m);
      const step = rr.map((v, k) => (dad[k]! > 0 ? v / dad[k]! : 0));
      for (let i = 0; i < size; i++) {
        const k = i % m;
        w[i]! += step[k]! * d[i]!;
        r[i]! -= step[k]! * ad[i]!;
      }
      const next = perModelDot(r, r, m);
      if (next.every((v, k) => Math.sqrt(v) <= 1e-6 * start[k]!)) break;
      const beta = next.map((v, k) => (rr[k]! > 0 ? v / rr[k]! : 0));
      for (let i = 0; i < size; i++) d[i] = r[i]! + beta[i % m]! * d[i]!;
      rr.set(next);
    }
    return new LinearHead(Float32Array.from(w), Float32Array.from(mean), p);
  }

  static load(artifact: Artifact): LinearHead {
    const m = artifact.header.models.length;
    const dim = Number(artifact.header.featurizer.params.dim);
    return new LinearHead(tensor(artifact, 'linear.weights', Float32Array, [dim, m]), tensor(artifact, 'linear.bias', Float32Array, [m]), linearParams(artifact.header.head.params));
  }

  predict(x: SparseVector, out: Float64Array): void {
    const m = this.modelCount;
    for (let k = 0; k < m; k++) out[k] = this.bias[k]!;
    const { indices, values } = x;
    for (let i = 0; i < indices.length; i++) {
      const jm = indices[i]! * m;
      const v = values[i]!;
      for (let k = 0; k < m; k++) out[k]! += v * this.weights[jm + k]!;
    }
    for (let k = 0; k < m; k++) out[k] = clamp01(out[k]!);
  }

  tensors(): Tensor[] {
    return [
      { name: 'linear.weights', shape: [this.weights.length / this.modelCount, this.modelCount], data: this.weights },
      { name: 'linear.bias', shape: [this.modelCount], data: this.bias },
    ];
  }

  params(): Record<string, unknown> {
    return { ...this.p };
  }
}

function perModelDot(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m);
  for (let i = 0; i < a.length; i++) out[i % m]! += a[i]! * b[i]!;
  return out;
}
