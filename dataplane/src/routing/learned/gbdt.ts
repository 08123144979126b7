// Gradient-boosted decision trees for one binary target (the LightGBM recipe, small): features
// cut into at most `bins` quantile bins, trees grown leaf-wise (the leaf with the best gain splits
// next) on histograms of gradient and hessian, the larger child's histogram by subtraction, rows
// and features sampled per tree, logistic loss on soft labels in [0, 1]. Pure: data in, trees out.
import { seededRandom } from '../../seeded-random.js';

export interface BoostParams {
  learningRate: number;
  /** Leaves per tree. */
  leaves: number;
  /** Rows a leaf must hold. */
  minLeafRows: number;
  /** L2 penalty on leaf values. */
  l2: number;
  /** Share of the rows each tree sees. */
  rowFraction: number;
  /** Share of the features each tree may split on. */
  featureFraction: number;
  /** Quantile bins per feature (at most 256). */
  bins: number;
}

/** A fitted ensemble: trees over raw feature values. Node n is a leaf when feature[n] < 0. */
export interface Trees {
  /** Raw score before the trees (log-odds of the mean label). */
  base: number;
  /** First node of each tree. */
  roots: number[];
  feature: number[];
  /** Split: values <= threshold go left (float32, as stored). Leaf: its value. */
  threshold: number[];
  left: number[];
  right: number[];
}

/** Columns of feature values: columns[f][row]. */
export type Columns = readonly Float64Array[];

/** Bin edges per feature from all its values (float32 values, ascending); bin(x) = edges below x. */
export function binEdges(columns: Columns, bins: number): Float64Array[] {
  return columns.map((column) => {
    const values = Float64Array.from(column).sort();
    const edges: number[] = [];
    for (let b = 1; b < bins; b++) {
      const v = Math.fround(values[Math.floor((b * values.length) / bins)] ?? 0);
      if (edges.length === 0 || v > edges[edges.length - 1]!) edges.push(v);
    }
    // Values at or above the top edge get a bin of their own only when some value lies above it.
    while (edges.length > 0 && edges[edges.length - 1]! >= Math.fround(values[values.length - 1] ?? 0)) edges.pop();
    return Float64Array.from(edges);
  });
}

/** Bin index of every value (edges below it), per feature. */
export function binColumns(columns: Columns, edges: readonly Float64Array[]): Uint8Array[] {
  return columns.map((column, f) => {
    const e = edges[f]!;
    const out = new Uint8Array(column.length);
    for (let r = 0; r < column.length; r++) {
      const x = column[r]!;
      let lo = 0;
      let hi = e.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (x <= e[mid]!) hi = mid;
        else lo = mid + 1;
      }
      out[r] = lo;
    }
    return out;
  });
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function logLoss(p: number, y: number): number {
  const q = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
  return -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
}

interface Leaf {
  start: number;
  end: number;
  hist: Float64Array;
  g: number;
  h: number;
  /** Node index of this leaf in the tree being grown. */
  node: number;
  best: { gain: number; slot: number; bin: number } | undefined;
}

/** Boosting on binned data; stops at `rounds` or, with a validation set, when it stops improving for `patience` rounds. */
export class Booster {
  readonly trees: Trees;
  private readonly p: BoostParams;
  private readonly binned: Uint8Array[];
  private readonly edges: readonly Float64Array[];
  private readonly labels: Float64Array;
  private readonly random: () => number;
  /** Raw scores of every row. */
  private readonly raw: Float64Array;
  private readonly grad: Float64Array;
  private readonly hess: Float64Array;
  private readonly index: Int32Array;
  /** The bin each split node splits at (training only; the stored tree keeps raw thresholds). */
  private readonly splitBin: number[] = [];
  /** Histograms of finished trees' leaves, for the next tree's (all the same size). */
  private readonly spare: Float64Array[] = [];

  constructor(binned: Uint8Array[], edges: readonly Float64Array[], labels: Float64Array, params: BoostParams, seed: number) {
    this.p = params;
    this.binned = binned;
    this.edges = edges;
    this.labels = labels;
    this.random = seededRandom(seed);
    const n = labels.length;
    this.raw = new Float64Array(n);
    this.grad = new Float64Array(n);
    this.hess = new Float64Array(n);
    this.index = new Int32Array(n);
    this.trees = { base: 0, roots: [], feature: [], threshold: [], left: [], right: [] };
  }

  /**
   * Fits on `fit` rows. With `valid` rows, stops once their log loss has not improved for
   * `patience` rounds and keeps the trees up to the best round. Returns the rounds kept.
   */
  fit(fit: Int32Array, rounds: number, valid?: Int32Array, patience = 100): number {
    let mean = 0;
    for (const r of fit) mean += this.labels[r]!;
    mean = Math.min(Math.max(mean / Math.max(1, fit.length), 1e-6), 1 - 1e-6);
    this.trees.base = Math.log(mean / (1 - mean));
    this.raw.fill(this.trees.base);
    let best = Infinity;
    let bestRound = 0;
    let bestNodes = 0;
    for (let round = 1; round <= rounds; round++) {
      const root = this.grow(fit);
      this.trees.roots.push(root);
      this.apply(root, fit);
      if (valid !== undefined) {
        this.apply(root, valid);
        let loss = 0;
        for (const r of valid) loss += logLoss(sigmoid(this.raw[r]!), this.labels[r]!);
        if (loss < best - 1e-12) {
          best = loss;
          bestRound = round;
          bestNodes = this.trees.feature.length;
        } else if (round - bestRound >= patience) break;
      }
    }
    if (valid !== undefined) this.truncate(bestRound, bestNodes);
    return this.trees.roots.length;
  }

  private truncate(rounds: number, nodes: number): void {
    const t = this.trees;
    t.roots.length = rounds;
    t.feature.length = nodes;
    t.threshold.length = nodes;
    t.left.length = nodes;
    t.right.length = nodes;
  }

  /** Adds the tree at `root` to the raw scores of `rows`. */
  private apply(root: number, rows: Int32Array): void {
    const t = this.trees;
    for (const r of rows) {
      let n = root;
      while (t.feature[n]! >= 0) n = this.binned[t.feature[n]!]![r]! <= this.splitBin[n]! ? t.left[n]! : t.right[n]!;
      this.raw[r]! += t.threshold[n]!;
    }
  }

  private newNode(): number {
    const t = this.trees;
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    this.splitBin.push(0);
    return t.feature.length - 1;
  }

  /** Grows one tree on a sample of `fit`; returns its root node. */
  private grow(fit: Int32Array): number {
    const p = this.p;
    const f = this.binned.length;
    // Gradients of the log loss at the current scores.
    let count = 0;
    for (const r of fit) {
      if (p.rowFraction < 1 && this.random() >= p.rowFraction) continue;
      const q = sigmoid(this.raw[r]!);
      this.grad[r] = q - this.labels[r]!;
      this.hess[r] = Math.max(q * (1 - q), 1e-16);
      this.index[count++] = r;
    }
    const slots = this.sampleFeatures(f);
    const root = this.newNode();
    const leaves: Leaf[] = [this.leaf(0, count, slots, root)];
    while (leaves.length < p.leaves) {
      let at = -1;
      for (let i = 0; i < leaves.length; i++) if (leaves[i]!.best !== undefined && (at < 0 || leaves[i]!.best!.gain > leaves[at]!.best!.gain)) at = i;
      if (at < 0) break;
      const parent = leaves[at]!;
      const { slot, bin } = parent.best!;
      const feature = slots[slot]!;
      const column = this.binned[feature]!;
      // Partition the leaf's rows in place: bin <= split bin first.
      let i = parent.start;
      let j = parent.end - 1;
      const index = this.index;
      while (i <= j) {
        if (column[index[i]!]! <= bin) i++;
        else {
          const tmp = index[i]!;
          index[i] = index[j]!;
          index[j--] = tmp;
        }
      }
      const t = this.trees;
      const leftNode = this.newNode();
      const rightNode = this.newNode();
      t.feature[parent.node] = feature;
      t.threshold[parent.node] = this.edges[feature]![bin]!;
      this.splitBin[parent.node] = bin;
      t.left[parent.node] = leftNode;
      t.right[parent.node] = rightNode;
      const leftSmaller = i - parent.start <= parent.end - i;
      const small = leftSmaller ? this.leaf(parent.start, i, slots, leftNode) : this.leaf(i, parent.end, slots, rightNode);
      const large = this.subtract(parent, small, slots, leftSmaller ? i : parent.start, leftSmaller ? parent.end : i, leftSmaller ? rightNode : leftNode);
      leaves.splice(at, 1, small, large);
    }
    for (const leaf of leaves) {
      // Stored as float32: the trees a router was trained with are the trees it loads.
      this.trees.threshold[leaf.node] = Math.fround((-leaf.g / (leaf.h + p.l2)) * p.learningRate);
      this.spare.push(leaf.hist);
    }
    return root;
  }

  private sampleFeatures(f: number): number[] {
    const all = Array.from({ length: f }, (_, i) => i);
    const keep = Math.max(1, Math.round(f * this.p.featureFraction));
    if (keep >= f) return all;
    for (let i = 0; i < keep; i++) {
      const j = i + Math.floor(this.random() * (f - i));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    return all.slice(0, keep).sort((a, b) => a - b);
  }

  /** A leaf over index[start, end) with its histogram built from the rows. */
  private leaf(start: number, end: number, slots: readonly number[], node: number): Leaf {
    const hist = this.spare.pop()?.fill(0, 0, slots.length * 768) ?? new Float64Array(this.binned.length * 768);
    let g = 0;
    let h = 0;
    for (let i = start; i < end; i++) {
      const r = this.index[i]!;
      g += this.grad[r]!;
      h += this.hess[r]!;
    }
    for (let s = 0; s < slots.length; s++) {
      const column = this.binned[slots[s]!]!;
      const base = s * 768;
      for (let i = start; i < end; i++) {
        const r = this.index[i]!;
        const at = base + column[r]! * 3;
        hist[at]! += this.grad[r]!;
        hist[at + 1]! += this.hess[r]!;
        hist[at + 2]! += 1;
      }
    }
    const leaf: Leaf = { start, end, hist, g, h, node, best: undefined };
    leaf.best = this.bestSplit(leaf, slots);
    return leaf;
  }

  /** The sibling of `small` under `parent`: the parent's histogram minus the small child's. */
  private subtract(parent: Leaf, small: Leaf, slots: readonly number[], start: number, end: number, node: number): Leaf {
    const hist = parent.hist;
    const used = slots.length * 768;
    for (let i = 0; i < used; i++) hist[i]! -= small.hist[i]!;
    const leaf: Leaf = { start, end, hist, g: parent.g - small.g, h: parent.h - small.h, node, best: undefined };
    leaf.best = this.bestSplit(leaf, slots);
    return leaf;
  }

  private bestSplit(leaf: Leaf, slots: readonly number[]): Leaf['best'] {
    const { minLeafRows, l2 } = this.p;
    const rows = leaf.end - leaf.start;
    if (rows < 2 * minLeafRows) return undefined;
    const parentScore = (leaf.g * leaf.g) / (leaf.h + l2);
    let best: Leaf['best'];
    for (let s = 0; s < slots.length; s++) {
      const bins = this.edges[slots[s]!]!.length + 1;
      const base = s * 768;
      let gl = 0;
      let hl = 0;
      let cl = 0;
      for (let b = 0; b < bins - 1; b++) {
        const at = base + b * 3;
        gl += leaf.hist[at]!;
        hl += leaf.hist[at + 1]!;
        cl += leaf.hist[at + 2]!;
        if (cl < minLeafRows) continue;
        if (rows - cl < minLeafRows) break;
        const gr = leaf.g - gl;
        const hr = leaf.h - hl;
        if (hl < 1e-3 || hr < 1e-3) continue;
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
        if (gain > 1e-12 && (best === undefined || gain > best.gain)) best = { gain, slot: s, bin: b };
      }
    }
    return best;
  }
}
