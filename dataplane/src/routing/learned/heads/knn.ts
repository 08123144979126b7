// kNN head: cosine similarity to the training queries (an inverted index over the sparse
// features), the k nearest, and a similarity-weighted mean of their scores per model.
import { tensor, type Artifact, type Tensor } from '../artifact.js';
import type { SparseRows, SparseVector } from '../sparse.js';
import { clamp01, modelMeans, numberParam, type RouterHead, type TrainingSet } from './head.js';

export interface KnnParams {
  k: number;
  /** Neighbour weight = similarity^power. */
  power: number;
  /** Pseudo-count of the per-model prior mean mixed into every prediction. */
  prior: number;
  /** Only the query's highest-weighted terms are matched (0 = all): bounds latency on long prompts. */
  maxQueryTerms: number;
}

export const defaultKnnParams: KnnParams = { k: 100, power: 2, prior: 0.05, maxQueryTerms: 96 };

export function knnParams(raw: Record<string, unknown>): KnnParams {
  return {
    k: numberParam(raw, 'k', defaultKnnParams.k, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
    power: numberParam(raw, 'power', defaultKnnParams.power, (v) => v >= 0, 'a number >= 0'),
    prior: numberParam(raw, 'prior', defaultKnnParams.prior, (v) => v >= 0, 'a number >= 0'),
    maxQueryTerms: numberParam(raw, 'maxQueryTerms', defaultKnnParams.maxQueryTerms, (v) => Number.isInteger(v) && v >= 0, 'an integer >= 0'),
  };
}

export class KnnHead implements RouterHead {
  readonly kind = 'knn';
  readonly readsFeatures = true;
  readonly modelCount: number;
  private readonly rows: SparseRows;
  private readonly targets: Float32Array;
  private readonly prior: Float64Array;
  private readonly p: KnnParams;
  // Inverted index: postings of feature j are docs[postStart[j] .. postStart[j+1]).
  private readonly postStart: Int32Array;
  private readonly postDoc: Int32Array;
  private readonly postValue: Float32Array;
  // Per-query scratch.
  private readonly sims: Float64Array;
  private readonly seen: Int32Array;
  private readonly topDoc: Int32Array;
  private readonly topSim: Float64Array;
  /** When each kept neighbour was first seen, to break ties between equal similarities. */
  private readonly topSeq: Int32Array;
  private readonly order: Int32Array;

  constructor(rows: SparseRows, targets: Float32Array, modelCount: number, params: KnnParams, prior?: Float64Array) {
    this.rows = rows;
    this.targets = targets;
    this.modelCount = modelCount;
    this.p = params;
    const n = rows.indptr.length - 1;
    this.prior = prior ?? modelMeans({ rows, targets, models: new Array<string>(modelCount).fill('') });
    const counts = new Int32Array(rows.dim + 1);
    for (let i = 0; i < rows.indices.length; i++) counts[rows.indices[i]! + 1]! += 1;
    for (let j = 0; j < rows.dim; j++) counts[j + 1]! += counts[j]!;
    this.postStart = counts;
    this.postDoc = new Int32Array(rows.indices.length);
    this.postValue = new Float32Array(rows.indices.length);
    const fill = counts.slice(0, rows.dim);
    for (let r = 0; r < n; r++) {
      for (let i = rows.indptr[r]!; i < rows.indptr[r + 1]!; i++) {
        const at = fill[rows.indices[i]!]!++;
        this.postDoc[at] = r;
        this.postValue[at] = rows.values[i]!;
      }
    }
    this.sims = new Float64Array(n);
    this.seen = new Int32Array(n);
    this.topDoc = new Int32Array(params.k);
    this.topSim = new Float64Array(params.k);
    this.topSeq = new Int32Array(params.k);
    this.order = new Int32Array(rows.dim);
  }

  static train(set: TrainingSet, raw: Record<string, unknown> = {}): KnnHead {
    return new KnnHead(set.rows, set.targets, set.models.length, knnParams(raw));
  }

  static load(artifact: Artifact): KnnHead {
    const m = artifact.header.models.length;
    const indptr = tensor(artifact, 'knn.indptr', Int32Array, [undefined]);
    const n = indptr.length - 1;
    const dim = Number(artifact.header.featurizer.params.dim);
    const rows: SparseRows = { dim, indptr, indices: tensor(artifact, 'knn.indices', Int32Array), values: tensor(artifact, 'knn.values', Float32Array) };
    const targets = tensor(artifact, 'knn.targets', Float32Array, [n, m]);
    const prior = Float64Array.from(tensor(artifact, 'knn.prior', Float32Array, [m]));
    return new KnnHead(rows, targets, m, knnParams(artifact.header.head.params), prior);
  }

  predict(x: SparseVector, out: Float64Array): void {
    const { postStart, postDoc, postValue, sims, seen } = this;
    let terms = x.indices.length;
    let order: ArrayLike<number> | null = null;
    if (this.p.maxQueryTerms > 0 && terms > this.p.maxQueryTerms) {
      order = this.strongestTerms(x, this.p.maxQueryTerms);
      terms = this.p.maxQueryTerms;
    }
    let seenCount = 0;
    for (let t = 0; t < terms; t++) {
      const i = order === null ? t : order[t]!;
      const j = x.indices[i]!;
      const v = x.values[i]!;
      for (let q = postStart[j]!, end = postStart[j + 1]!; q < end; q++) {
        const d = postDoc[q]!;
        const sim = sims[d]!;
        if (sim === 0) seen[seenCount++] = d;
        sims[d] = sim + v * postValue[q]!;
      }
    }
    // Top k in a fixed-size min-heap whose root is the weakest neighbour kept: the lowest
    // similarity, and among equals the one seen last, so ties keep the earliest seen.
    const k = this.p.k;
    const { topDoc, topSim, topSeq } = this;
    let filled = 0;
    for (let s = 0; s < seenCount; s++) {
      const d = seen[s]!;
      const sim = sims[d]!;
      sims[d] = 0;
      if (filled < k) {
        let at = filled++;
        while (at > 0) {
          const parent = (at - 1) >> 1;
          if (!weaker(sim, s, topSim[parent]!, topSeq[parent]!)) break;
          topSim[at] = topSim[parent]!;
          topDoc[at] = topDoc[parent]!;
          topSeq[at] = topSeq[parent]!;
          at = parent;
        }
        topSim[at] = sim;
        topDoc[at] = d;
        topSeq[at] = s;
      } else if (sim > topSim[0]!) {
        let at = 0;
        for (;;) {
          let child = 2 * at + 1;
          if (child >= k) break;
          if (child + 1 < k && weaker(topSim[child + 1]!, topSeq[child + 1]!, topSim[child]!, topSeq[child]!)) child++;
          if (!weaker(topSim[child]!, topSeq[child]!, sim, s)) break;
          topSim[at] = topSim[child]!;
          topDoc[at] = topDoc[child]!;
          topSeq[at] = topSeq[child]!;
          at = child;
        }
        topSim[at] = sim;
        topDoc[at] = d;
        topSeq[at] = s;
      }
    }
    const m = this.modelCount;
    for (let c = 0; c < m; c++) {
      let num = this.p.prior * this.prior[c]!;
      let den = this.p.prior;
      for (let s = 0; s < filled; s++) {
        const y = this.targets[topDoc[s]! * m + c]!;
        // Dense embeddings can point away from a neighbour: that is no evidence for its scores.
        if (Number.isNaN(y) || topSim[s]! <= 0) continue;
        const w = this.p.power === 1 ? topSim[s]! : Math.pow(topSim[s]!, this.p.power);
        num += w * y;
        den += w;
      }
      out[c] = den > 0 ? clamp01(num / den) : this.prior[c]!;
    }
  }

  /** Positions of the `count` largest values of x (partial selection; order among them is irrelevant). */
  private strongestTerms(x: SparseVector, count: number): Int32Array {
    const n = x.values.length;
    const order = this.order.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    let lo = 0;
    let hi = n - 1;
    const v = x.values;
    // Quickselect so the first `count` positions hold the largest values.
    while (lo < hi) {
      const pivot = v[order[(lo + hi) >> 1]!]!;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (v[order[i]!]! > pivot) i++;
        while (v[order[j]!]! < pivot) j--;
        if (i <= j) {
          const t = order[i]!;
          order[i++] = order[j]!;
          order[j--] = t;
        }
      }
      if (count - 1 <= j) hi = j;
      else if (count - 1 >= i) lo = i;
      else break;
    }
    return order;
  }

  tensors(): Tensor[] {
    const n = this.rows.indptr.length - 1;
    return [
      { name: 'knn.indptr', shape: [n + 1], data: this.rows.indptr },
      { name: 'knn.indices', shape: [this.rows.indices.length], data: this.rows.indices },
      { name: 'knn.values', shape: [this.rows.values.length], data: this.rows.values },
      { name: 'knn.targets', shape: [n, this.modelCount], data: this.targets },
      { name: 'knn.prior', shape: [this.modelCount], data: Float32Array.from(this.prior) },
    ];
  }

  params(): Record<string, unknown> {
    return { ...this.p };
  }
}

/** Whether neighbour a (similarity, first-seen position) ranks below neighbour b. */
function weaker(simA: number, seqA: number, simB: number, seqB: number): boolean {
  return simA < simB || (simA === simB && seqA > seqB);
}
