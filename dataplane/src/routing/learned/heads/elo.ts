// Elo / Bradley-Terry head: every query where two models are both scored is a match between
// them (the higher score wins; equal scores are a draw), and P(i beats j) = sigmoid(s_i - s_j).
// With conditioning "features" a model's strength depends on the query, s_m(x) = b_m + w_m . x
// (a pairwise, not a pointwise, regression); with "global" it is one rating per model, classic
// Elo, which ranks every query alike. The predicted quality is the model's expected win rate
// against the other candidates, mapped to the score scale by one least-squares line.
import { tensor, type Artifact, type Tensor } from '../artifact.js';
import type { SparseVector } from '../sparse.js';
import { clamp01, numberParam, type RouterHead, type TrainingSet } from './head.js';

export type EloConditioning = 'features' | 'global';

export interface EloParams {
  conditioning: EloConditioning;
  /** Full-batch Adam steps. */
  iterations: number;
  learningRate: number;
  /** L2 penalty on the feature weights. */
  l2: number;
  /** Weight of a draw (it pulls both strengths together); 0 ignores draws. */
  drawWeight: number;
}

export const defaultEloParams: EloParams = { conditioning: 'features', iterations: 300, learningRate: 0.01, l2: 0.001, drawWeight: 0.25 };

export function eloParams(raw: Record<string, unknown>): EloParams {
  const conditioning = raw.conditioning ?? defaultEloParams.conditioning;
  if (conditioning !== 'features' && conditioning !== 'global') throw new Error(`head parameter conditioning: got ${JSON.stringify(conditioning)}; expected "features" or "global"`);
  return {
    conditioning,
    iterations: numberParam(raw, 'iterations', defaultEloParams.iterations, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
    learningRate: numberParam(raw, 'learningRate', defaultEloParams.learningRate, (v) => v > 0, 'a number > 0'),
    l2: numberParam(raw, 'l2', defaultEloParams.l2, (v) => v >= 0, 'a number >= 0'),
    drawWeight: numberParam(raw, 'drawWeight', defaultEloParams.drawWeight, (v) => v >= 0 && v <= 1, 'a number from 0 to 1'),
  };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

export class EloHead implements RouterHead {
  readonly kind = 'elo';
  readonly readsFeatures = true;
  readonly modelCount: number;
  private readonly p: EloParams;
  /** weights[j * models + k]: feature j's contribution to model k's strength (empty when global). */
  private readonly weights: Float32Array;
  private readonly bias: Float32Array;
  /** [intercept, slope] of quality over win rate. */
  private readonly calibration: Float32Array;
  private readonly strength: Float64Array;

  constructor(params: EloParams, weights: Float32Array, bias: Float32Array, calibration: Float32Array) {
    this.p = params;
    this.weights = weights;
    this.bias = bias;
    this.calibration = calibration;
    this.modelCount = bias.length;
    this.strength = new Float64Array(bias.length);
  }

  static train(set: TrainingSet, raw: Record<string, unknown>): EloHead {
    const p = eloParams(raw);
    const m = set.models.length;
    const { dim, indptr, indices, values } = set.rows;
    const n = indptr.length - 1;
    const conditioned = p.conditioning === 'features';
    const weights = new Float32Array(conditioned ? dim * m : 0);
    const bias = new Float32Array(m);
    const head = new EloHead(p, weights, bias, Float32Array.of(0, 1));
    const adamW = [new Float32Array(weights.length), new Float32Array(weights.length)] as const;
    const adamB = [new Float64Array(m), new Float64Array(m)] as const;
    const gradS = new Float64Array(n * m); // d loss / d strength, per query and model
    const gradW = new Float64Array(weights.length);
    const gradB = new Float64Array(m);
    const s = new Float64Array(m);
    // Full-batch Adam on the mean pairwise logistic loss: smoother than per-example steps, which
    // lost about 1 point of argmax quality in cross-validation against a numpy reference.
    for (let step = 1; step <= p.iterations; step++) {
      gradB.fill(0);
      for (let r = 0; r < n; r++) {
        head.strengths(indices, values, indptr[r]!, indptr[r + 1]!, s);
        for (let k = 0; k < m; k++) gradS[r * m + k] = 0;
        for (let a = 0; a < m; a++) {
          const ya = set.targets[r * m + a]!;
          if (Number.isNaN(ya)) continue;
          for (let b = a + 1; b < m; b++) {
            const yb = set.targets[r * m + b]!;
            if (Number.isNaN(yb)) continue;
            const w = ya === yb ? p.drawWeight : 1;
            if (w === 0) continue;
            // Soft outcome: 1 if a won outright, 0 if b did, 0.5 for a draw.
            const g = (w * (sigmoid(s[a]! - s[b]!) - (0.5 + (ya - yb) / 2))) / n;
            gradS[r * m + a]! += g;
            gradS[r * m + b]! -= g;
          }
        }
        for (let k = 0; k < m; k++) gradB[k]! += gradS[r * m + k]!;
      }
      const lr = (p.learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
      for (let k = 0; k < m; k++) adam(bias, adamB, k, gradB[k]!, lr);
      if (!conditioned) continue;
      for (let i = 0; i < weights.length; i++) gradW[i] = p.l2 * weights[i]!;
      for (let r = 0; r < n; r++) {
        for (let q = indptr[r]!; q < indptr[r + 1]!; q++) {
          const base = indices[q]! * m;
          const x = values[q]!;
          for (let k = 0; k < m; k++) gradW[base + k]! += x * gradS[r * m + k]!;
        }
      }
      for (let i = 0; i < weights.length; i++) adam(weights, adamW, i, gradW[i]!, lr);
    }
    head.calibrate(set);
    return head;
  }

  static load(artifact: Artifact): EloHead {
    const m = artifact.header.models.length;
    const p = eloParams(artifact.header.head.params);
    const dim = Number(artifact.header.featurizer.params.dim);
    const weights = p.conditioning === 'features' ? tensor(artifact, 'elo.weights', Float32Array, [dim, m]) : new Float32Array(0);
    return new EloHead(p, weights, tensor(artifact, 'elo.bias', Float32Array, [m]), tensor(artifact, 'elo.calibration', Float32Array, [2]));
  }

  /**
   * Least squares of the observed scores on the win rate, one line for all models: monotone, so
   * it keeps the Bradley-Terry ranking (per-model lines reordered it and lost 1 point in CV).
   */
  private calibrate(set: TrainingSet): void {
    const m = this.modelCount;
    const { indptr, indices, values } = set.rows;
    const n = indptr.length - 1;
    let sw = 0;
    let sww = 0;
    let swy = 0;
    let sy = 0;
    let count = 0;
    const s = new Float64Array(m);
    const win = new Float64Array(m);
    for (let r = 0; r < n; r++) {
      this.strengths(indices, values, indptr[r]!, indptr[r + 1]!, s);
      winRates(s, win);
      for (let k = 0; k < m; k++) {
        const y = set.targets[r * m + k]!;
        if (Number.isNaN(y)) continue;
        count += 1;
        sw += win[k]!;
        sww += win[k]! * win[k]!;
        swy += win[k]! * y;
        sy += y;
      }
    }
    const variance = count > 0 ? sww / count - (sw / count) ** 2 : 0;
    const slope = variance > 1e-9 ? (swy / count - (sw / count) * (sy / count)) / variance : 0;
    this.calibration[0] = count > 0 ? sy / count - slope * (sw / count) : 0.5;
    this.calibration[1] = slope;
  }

  private strengths(indices: Int32Array, values: Float32Array, start: number, end: number, out: Float64Array): void {
    const m = this.modelCount;
    for (let k = 0; k < m; k++) out[k] = this.bias[k]!;
    if (this.weights.length === 0) return;
    for (let q = start; q < end; q++) {
      const base = indices[q]! * m;
      const x = values[q]!;
      for (let k = 0; k < m; k++) out[k]! += x * this.weights[base + k]!;
    }
  }

  /** Each model's strength for a query (its Elo-style rating, in logits). */
  rate(x: SparseVector, out: Float64Array): void {
    this.strengths(x.indices, x.values, 0, x.indices.length, out);
  }

  predict(x: SparseVector, out: Float64Array): void {
    const m = this.modelCount;
    this.rate(x, this.strength);
    winRates(this.strength, out);
    const intercept = this.calibration[0]!;
    const slope = this.calibration[1]!;
    for (let k = 0; k < m; k++) out[k] = clamp01(intercept + slope * out[k]!);
  }

  tensors(): Tensor[] {
    const m = this.modelCount;
    const out: Tensor[] = [
      { name: 'elo.bias', shape: [m], data: this.bias },
      { name: 'elo.calibration', shape: [2], data: this.calibration },
    ];
    if (this.weights.length > 0) out.push({ name: 'elo.weights', shape: [this.weights.length / m, m], data: this.weights });
    return out;
  }

  params(): Record<string, unknown> {
    return { ...this.p };
  }
}

/** Expected win rate of each model against every other one, given their strengths. */
function winRates(strength: Float64Array, out: Float64Array): void {
  const m = strength.length;
  for (let a = 0; a < m; a++) {
    let sum = 0;
    for (let b = 0; b < m; b++) if (b !== a) sum += sigmoid(strength[a]! - strength[b]!);
    out[a] = m > 1 ? sum / (m - 1) : 0.5;
  }
}

function adam(w: Float32Array, state: readonly [Float32Array | Float64Array, Float32Array | Float64Array], i: number, g: number, lr: number): void {
  const mo = (state[0][i] = BETA1 * state[0][i]! + (1 - BETA1) * g);
  const ve = (state[1][i] = BETA2 * state[1][i]! + (1 - BETA2) * g * g);
  w[i]! -= (lr * mo) / (Math.sqrt(ve) + EPS);
}
