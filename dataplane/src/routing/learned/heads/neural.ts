// Two small neural heads sharing one trainer, both trained with per-example Adam on binary
// cross-entropy against the observed scores (soft labels in [0, 1]):
//   mlp: quality_m = sigmoid(W2_m . relu(W1 x + b1) + b2_m)
//   mf:  quality_m = sigmoid(v_m . (P x) + b_m), RouteLLM's bilinear matrix factorisation with
//        the query embedding replaced by the hashed features and its w2 folded into v_m.
import { seededRandom } from '../../../seeded-random.js';
import { tensor, type Artifact, type Tensor } from '../artifact.js';
import type { SparseVector } from '../sparse.js';
import { FirstLayer, Int8FirstLayer } from './first-layer.js';
import { booleanParam, modelMeans, numberParam, type RouterHead, type TrainingSet } from './head.js';

export type NeuralKind = 'mlp' | 'mf';

export interface NeuralParams {
  /** Hidden units (mlp) or embedding dimension (mf). */
  hidden: number;
  epochs: number;
  learningRate: number;
  /** L2 penalty applied to the rows a step touches. */
  l2: number;
  /** First-layer weights start uniform in [-init, init]. */
  init: number;
  /**
   * Predict with the first layer quantized to int8 (a float32 scale per feature row): a quarter of
   * the memory a decision reads. Training and the artifact keep float32.
   */
  int8: boolean;
}

export const defaultNeuralParams: Record<NeuralKind, NeuralParams> = {
  mlp: { hidden: 64, epochs: 2, learningRate: 0.001, l2: 0.01, init: 0.1, int8: true },
  mf: { hidden: 32, epochs: 2, learningRate: 0.001, l2: 0.001, init: 0.1, int8: false },
};

export function neuralParams(kind: NeuralKind, raw: Record<string, unknown>): NeuralParams {
  const d = defaultNeuralParams[kind];
  return {
    hidden: numberParam(raw, 'hidden', d.hidden, (v) => Number.isInteger(v) && v >= 1 && v <= 4096, 'an integer from 1 to 4096'),
    epochs: numberParam(raw, 'epochs', d.epochs, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
    learningRate: numberParam(raw, 'learningRate', d.learningRate, (v) => v > 0, 'a number > 0'),
    l2: numberParam(raw, 'l2', d.l2, (v) => v >= 0, 'a number >= 0'),
    init: numberParam(raw, 'init', d.init, (v) => v > 0, 'a number > 0'),
    int8: booleanParam(raw, 'int8', d.int8),
  };
}

/** The hidden layer's activation, in place: ReLU for mlp, none for mf (a bilinear model). */
function activate(kind: NeuralKind, hidden: Float64Array): void {
  if (kind === 'mlp') for (let u = 0; u < hidden.length; u++) if (hidden[u]! < 0) hidden[u] = 0;
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

export class NeuralHead implements RouterHead {
  readonly kind: NeuralKind;
  readonly readsFeatures = true;
  readonly modelCount: number;
  private readonly p: NeuralParams;
  /** w1[j * hidden + h]: feature j's weights, contiguous per feature (float32, as trained and stored). */
  private readonly w1: Float32Array;
  /** What predictions read: w1 itself, or w1 quantized (params.int8). */
  private readonly firstLayer: FirstLayer | Int8FirstLayer;
  private readonly b1: Float32Array;
  /** w2[k * hidden + h]: model k's output weights (its embedding, for mf). */
  private readonly w2: Float32Array;
  private readonly b2: Float32Array;
  private readonly h: Float64Array;

  constructor(kind: NeuralKind, params: NeuralParams, w1: Float32Array, b1: Float32Array, w2: Float32Array, b2: Float32Array) {
    this.kind = kind;
    this.p = params;
    this.w1 = w1;
    this.firstLayer = params.int8 ? new Int8FirstLayer(w1, params.hidden) : new FirstLayer(w1, params.hidden);
    this.b1 = b1;
    this.w2 = w2;
    this.b2 = b2;
    this.modelCount = b2.length;
    this.h = new Float64Array(params.hidden);
  }

  static train(kind: NeuralKind, set: TrainingSet, raw: Record<string, unknown>, seed: number): NeuralHead {
    const p = neuralParams(kind, raw);
    const H = p.hidden;
    const m = set.models.length;
    const { dim, indptr, indices, values } = set.rows;
    const n = indptr.length - 1;
    const random = seededRandom(seed);
    const uniform = (scale: number): number => (2 * random() - 1) * scale;
    const initial = Float32Array.from({ length: dim * H }, () => uniform(p.init));
    const b1 = new Float32Array(H).fill(kind === 'mlp' ? 0.1 : 0);
    const w2 = Float32Array.from({ length: m * H }, () => uniform(1 / Math.sqrt(H)));
    const mean = modelMeans(set);
    const b2 = Float32Array.from(mean, (q) => Math.log(Math.min(Math.max(q, 1e-3), 1 - 1e-3) / (1 - Math.min(Math.max(q, 1e-3), 1 - 1e-3))));
    const layer = new FirstLayer(initial, H);
    const w1 = layer.weights; // the layer's own copy: the one it reads
    const adam = { w1: [new Float32Array(dim * H), new Float32Array(dim * H)], b1: [new Float64Array(H), new Float64Array(H)], w2: [new Float64Array(m * H), new Float64Array(m * H)], b2: [new Float64Array(m), new Float64Array(m)] };
    const hidden = new Float64Array(H);
    const gradH = new Float64Array(H);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    let step = 0;
    const update = (w: Float32Array, state: [Float32Array | Float64Array, Float32Array | Float64Array], i: number, g: number, lr: number): void => {
      const mo = (state[0][i] = BETA1 * state[0][i]! + (1 - BETA1) * g);
      const ve = (state[1][i] = BETA2 * state[1][i]! + (1 - BETA2) * g * g);
      w[i]! -= (lr * mo) / (Math.sqrt(ve) + EPS);
    };
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
      for (const r of order) {
        step++;
        const lr = (p.learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
        const start = indptr[r]!;
        const end = indptr[r + 1]!;
        layer.apply(b1, indices, values, start, end, hidden);
        activate(kind, hidden);
        gradH.fill(0);
        for (let k = 0; k < m; k++) {
          const y = set.targets[r * m + k]!;
          if (Number.isNaN(y)) continue;
          let z = b2[k]!;
          for (let u = 0; u < H; u++) z += w2[k * H + u]! * hidden[u]!;
          const g = sigmoid(z) - y; // d(cross-entropy)/dz
          for (let u = 0; u < H; u++) {
            gradH[u]! += g * w2[k * H + u]!;
            update(w2, adam.w2 as [Float64Array, Float64Array], k * H + u, g * hidden[u]! + p.l2 * w2[k * H + u]!, lr);
          }
          update(b2, adam.b2 as [Float64Array, Float64Array], k, g, lr);
        }
        if (kind === 'mlp') for (let u = 0; u < H; u++) if (hidden[u]! <= 0) gradH[u] = 0;
        for (let u = 0; u < H; u++) if (kind === 'mlp') update(b1, adam.b1 as [Float64Array, Float64Array], u, gradH[u]!, lr);
        for (let q = start; q < end; q++) {
          const base = indices[q]! * H;
          const x = values[q]!;
          for (let u = 0; u < H; u++) update(w1, adam.w1 as [Float32Array, Float32Array], base + u, x * gradH[u]! + p.l2 * w1[base + u]!, lr);
        }
      }
    }
    return new NeuralHead(kind, p, w1, b1, w2, b2);
  }

  static load(kind: NeuralKind, artifact: Artifact): NeuralHead {
    const m = artifact.header.models.length;
    const dim = Number(artifact.header.featurizer.params.dim);
    const p = neuralParams(kind, artifact.header.head.params);
    const H = p.hidden;
    return new NeuralHead(
      kind,
      p,
      tensor(artifact, `${kind}.w1`, Float32Array, [dim, H]),
      tensor(artifact, `${kind}.b1`, Float32Array, [H]),
      tensor(artifact, `${kind}.w2`, Float32Array, [m, H]),
      tensor(artifact, `${kind}.b2`, Float32Array, [m]),
    );
  }

  predict(x: SparseVector, out: Float64Array): void {
    const H = this.p.hidden;
    const { h, w2, b2 } = this;
    this.firstLayer.apply(this.b1, x.indices, x.values, 0, x.indices.length, h);
    activate(this.kind, h);
    for (let k = 0, row = 0; k < this.modelCount; k++, row += H) {
      let z = b2[k]!;
      for (let u = 0; u < H; u++) z += w2[row + u]! * h[u]!;
      out[k] = sigmoid(z);
    }
  }

  tensors(): Tensor[] {
    const H = this.p.hidden;
    return [
      { name: `${this.kind}.w1`, shape: [this.w1.length / H, H], data: this.w1 },
      { name: `${this.kind}.b1`, shape: [H], data: this.b1 },
      { name: `${this.kind}.w2`, shape: [this.modelCount, H], data: this.w2 },
      { name: `${this.kind}.b2`, shape: [this.modelCount], data: this.b2 },
    ];
  }

  params(): Record<string, unknown> {
    return { ...this.p };
  }
}
