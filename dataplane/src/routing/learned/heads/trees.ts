// Gradient-boosted trees head (`gbdt`): per model, boosted trees on the query's shape (length,
// numbers, options, math and code markers: query-shape.ts) predict the chance that the model
// answers well. Which queries *within* a task a small model gets right is what the cost target
// needs, and the shape carries more of it than the words do (docs/learned-routing.md). Per model
// the number of trees is chosen by early stopping on a held-out 15 % of the training rows, then
// the trees are refitted on all of them; `bag` such ensembles with different seeds are averaged.
// It ignores the featurizer's vector.
import { ArtifactError, tensor, type Artifact, type Tensor } from '../artifact.js';
import { binColumns, binEdges, Booster, type BoostParams, type Trees } from '../gbdt.js';
import type { SparseVector } from '../sparse.js';
import { seededRandom } from '../../../seeded-random.js';
import { numberParam, type RouterHead, type TrainingSet } from './head.js';
import { QUERY_SHAPE_DIM, QUERY_SHAPE_VERSION, queryShape } from './query-shape.js';

export interface TreesParams extends BoostParams {
  /** Ensembles with different seeds, averaged. */
  bag: number;
  /** Upper bound on trees per model while early stopping looks for the best number. */
  maxRounds: number;
  /** Rounds without a better held-out loss before early stopping ends. */
  patience: number;
  /** Share of the training rows held out for early stopping. */
  validation: number;
  /** The refit on all rows grows this many times the early-stopped number of trees. */
  refit: number;
}

// LightGBM's usual settings for a few thousand rows, except the learning rate: 0.1 instead of
// 0.03 gives the same cross-validated quality and cost ratio (0.33 vs 0.33) with a third of the
// trees, so a decision takes a third of the time (docs/learned-routing.md).
export const defaultTreesParams: TreesParams = {
  learningRate: 0.1,
  leaves: 15,
  minLeafRows: 20,
  l2: 1,
  rowFraction: 0.8,
  featureFraction: 0.5,
  bins: 255,
  bag: 5,
  maxRounds: 2000,
  patience: 100,
  validation: 0.15,
  refit: 1.15,
};

export function treesParams(raw: Record<string, unknown>): TreesParams {
  const d = defaultTreesParams;
  const fraction = (v: number): boolean => v > 0 && v <= 1;
  const count = (max: number) => (v: number) => Number.isInteger(v) && v >= 1 && v <= max;
  return {
    learningRate: numberParam(raw, 'learningRate', d.learningRate, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    leaves: numberParam(raw, 'leaves', d.leaves, (v) => Number.isInteger(v) && v >= 2 && v <= 255, 'an integer from 2 to 255'),
    minLeafRows: numberParam(raw, 'minLeafRows', d.minLeafRows, count(1_000_000), 'an integer >= 1'),
    l2: numberParam(raw, 'l2', d.l2, (v) => v >= 0, 'a number >= 0'),
    rowFraction: numberParam(raw, 'rowFraction', d.rowFraction, fraction, 'a number in (0, 1]'),
    featureFraction: numberParam(raw, 'featureFraction', d.featureFraction, fraction, 'a number in (0, 1]'),
    bins: numberParam(raw, 'bins', d.bins, (v) => Number.isInteger(v) && v >= 2 && v <= 256, 'an integer from 2 to 256'),
    bag: numberParam(raw, 'bag', d.bag, count(64), 'an integer from 1 to 64'),
    maxRounds: numberParam(raw, 'maxRounds', d.maxRounds, count(100_000), 'an integer from 1 to 100000'),
    patience: numberParam(raw, 'patience', d.patience, count(100_000), 'an integer >= 1'),
    validation: numberParam(raw, 'validation', d.validation, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
    refit: numberParam(raw, 'refit', d.refit, (v) => v >= 1 && v <= 4, 'a number from 1 to 4'),
  };
}

/** Trees of every (bag member, model) ensemble, flattened. */
interface Forest {
  /** Per node: the feature it splits on, -1 for a leaf. */
  feature: Int32Array;
  /** Per node: the split threshold, or the leaf's value. */
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Per tree: its root node. */
  roots: Int32Array;
  /** Per ensemble (bag member b, model k at b * models + k): its first tree and its tree count. */
  firstTree: Int32Array;
  treeCount: Int32Array;
  /** Per ensemble: the raw score before its trees. */
  base: Float32Array;
}

function flatten(ensembles: readonly Trees[]): Forest {
  let nodes = 0;
  let trees = 0;
  for (const e of ensembles) {
    nodes += e.feature.length;
    trees += e.roots.length;
  }
  const forest: Forest = {
    feature: new Int32Array(nodes),
    threshold: new Float32Array(nodes),
    left: new Int32Array(nodes),
    right: new Int32Array(nodes),
    roots: new Int32Array(trees),
    firstTree: new Int32Array(ensembles.length),
    treeCount: new Int32Array(ensembles.length),
    base: new Float32Array(ensembles.length),
  };
  let node = 0;
  let tree = 0;
  ensembles.forEach((e, i) => {
    forest.firstTree[i] = tree;
    forest.treeCount[i] = e.roots.length;
    forest.base[i] = e.base;
    for (const root of e.roots) forest.roots[tree++] = node + root;
    for (let n = 0; n < e.feature.length; n++) {
      forest.feature[node + n] = e.feature[n]!;
      forest.threshold[node + n] = e.threshold[n]!;
      const leaf = e.feature[n]! < 0;
      forest.left[node + n] = leaf ? -1 : node + e.left[n]!;
      forest.right[node + n] = leaf ? -1 : node + e.right[n]!;
    }
    node += e.feature.length;
  });
  return forest;
}

export class TreesHead implements RouterHead {
  readonly kind = 'gbdt';
  readonly readsFeatures = false;
  readonly modelCount: number;
  private readonly p: TreesParams;
  private readonly forest: Forest;
  /**
   * The forest for predict(): node n's feature, threshold (float32 bits), left and right child at
   * 4n..4n+3 of one buffer, so a step down a tree touches one cache line instead of four arrays.
   */
  private readonly packed: Int32Array;
  private readonly packedThreshold: Float32Array;
  private readonly shape = new Float64Array(QUERY_SHAPE_DIM);

  constructor(params: TreesParams, modelCount: number, forest: Forest) {
    this.p = params;
    this.modelCount = modelCount;
    this.forest = forest;
    const nodes = forest.feature.length;
    this.packed = new Int32Array(nodes * 4);
    this.packedThreshold = new Float32Array(this.packed.buffer);
    for (let n = 0; n < nodes; n++) {
      this.packed[4 * n] = forest.feature[n]!;
      this.packedThreshold[4 * n + 1] = forest.threshold[n]!;
      this.packed[4 * n + 2] = 4 * forest.left[n]!;
      this.packed[4 * n + 3] = 4 * forest.right[n]!;
    }
  }

  static train(set: TrainingSet, raw: Record<string, unknown> = {}, seed = 1): TreesHead {
    if (set.queries === undefined) throw new Error('the gbdt head needs the training queries to read their shape');
    const p = treesParams(raw);
    const n = set.queries.length;
    const m = set.models.length;
    const columns = Array.from({ length: QUERY_SHAPE_DIM }, () => new Float64Array(n));
    const shape = new Float64Array(QUERY_SHAPE_DIM);
    set.queries.forEach((q, r) => {
      queryShape(q, shape);
      for (let f = 0; f < QUERY_SHAPE_DIM; f++) columns[f]![r] = shape[f]!;
    });
    const edges = binEdges(columns, Array.from({ length: n }, (_, r) => r), p.bins);
    const binned = binColumns(columns, edges);
    const ensembles: Trees[] = [];
    for (let b = 0; b < p.bag; b++) {
      for (let k = 0; k < m; k++) {
        const labels = new Float64Array(n);
        const rows: number[] = [];
        for (let r = 0; r < n; r++) {
          const y = set.targets[r * m + k]!;
          if (Number.isNaN(y)) continue;
          labels[r] = y;
          rows.push(r);
        }
        const memberSeed = (seed * 1_000_003 + b * 101 + k) >>> 0;
        const split = seededRandom(memberSeed ^ 0x5eed);
        const fit: number[] = [];
        const valid: number[] = [];
        for (const r of rows) (split() < p.validation ? valid : fit).push(r);
        const probe = new Booster(binned, edges, labels, p, memberSeed);
        const rounds = probe.fit(Int32Array.from(fit), p.maxRounds, Int32Array.from(valid), p.patience);
        const booster = new Booster(binned, edges, labels, p, memberSeed);
        booster.fit(Int32Array.from(rows), Math.max(1, Math.round(rounds * p.refit)));
        ensembles.push(booster.trees);
      }
    }
    return new TreesHead(p, m, flatten(ensembles));
  }

  static load(artifact: Artifact): TreesHead {
    const params = artifact.header.head.params;
    if (params.features !== QUERY_SHAPE_VERSION) {
      throw new ArtifactError(`router artifact gbdt features "${String(params.features)}" are not supported by this build (supported: ${QUERY_SHAPE_VERSION})`);
    }
    const p = treesParams(params);
    const m = artifact.header.models.length;
    const children = tensor(artifact, 'gbdt.nodes', Int32Array, [undefined, 3]);
    const nodes = children.length / 3;
    const feature = new Int32Array(nodes);
    const left = new Int32Array(nodes);
    const right = new Int32Array(nodes);
    for (let n = 0; n < nodes; n++) {
      feature[n] = children[3 * n]!;
      left[n] = children[3 * n + 1]!;
      right[n] = children[3 * n + 2]!;
    }
    const ensembles = tensor(artifact, 'gbdt.ensembles', Int32Array, [p.bag * m, 2]);
    const forest: Forest = {
      feature,
      threshold: tensor(artifact, 'gbdt.thresholds', Float32Array, [nodes]),
      left,
      right,
      roots: tensor(artifact, 'gbdt.roots', Int32Array, [undefined]),
      firstTree: Int32Array.from({ length: p.bag * m }, (_, i) => ensembles[2 * i]!),
      treeCount: Int32Array.from({ length: p.bag * m }, (_, i) => ensembles[2 * i + 1]!),
      base: tensor(artifact, 'gbdt.base', Float32Array, [p.bag * m]),
    };
    checkForest(forest);
    return new TreesHead(p, m, forest);
  }

  predict(_x: SparseVector, out: Float64Array, query: string): void {
    const x = queryShape(query, this.shape);
    const { roots, firstTree, treeCount, base } = this.forest;
    const nodes = this.packed;
    const thresholds = this.packedThreshold;
    const m = this.modelCount;
    out.fill(0, 0, m);
    for (let e = 0; e < firstTree.length; e++) {
      let z = base[e]!;
      const end = firstTree[e]! + treeCount[e]!;
      for (let t = firstTree[e]!; t < end; t++) {
        let at = 4 * roots[t]!;
        for (let feature = nodes[at]!; feature >= 0; feature = nodes[at]!) at = x[feature]! <= thresholds[at + 1]! ? nodes[at + 2]! : nodes[at + 3]!;
        z += thresholds[at + 1]!;
      }
      out[e % m]! += 1 / (1 + Math.exp(-z));
    }
    for (let k = 0; k < m; k++) out[k]! /= this.p.bag;
  }

  tensors(): Tensor[] {
    const f = this.forest;
    const nodes = f.feature.length;
    const children = new Int32Array(nodes * 3);
    for (let n = 0; n < nodes; n++) {
      children[3 * n] = f.feature[n]!;
      children[3 * n + 1] = f.left[n]!;
      children[3 * n + 2] = f.right[n]!;
    }
    const ensembles = new Int32Array(f.firstTree.length * 2);
    for (let e = 0; e < f.firstTree.length; e++) {
      ensembles[2 * e] = f.firstTree[e]!;
      ensembles[2 * e + 1] = f.treeCount[e]!;
    }
    return [
      { name: 'gbdt.nodes', shape: [nodes, 3], data: children },
      { name: 'gbdt.thresholds', shape: [nodes], data: f.threshold },
      { name: 'gbdt.roots', shape: [f.roots.length], data: f.roots },
      { name: 'gbdt.ensembles', shape: [f.firstTree.length, 2], data: ensembles },
      { name: 'gbdt.base', shape: [f.base.length], data: f.base },
    ];
  }

  params(): Record<string, unknown> {
    return { ...this.p, features: QUERY_SHAPE_VERSION };
  }
}

/** Every index in a loaded forest points inside it, so predict() cannot wander off or loop. */
function checkForest(f: Forest): void {
  const nodes = f.feature.length;
  for (let n = 0; n < nodes; n++) {
    const feature = f.feature[n]!;
    if (feature < 0) continue;
    // Children come after their parent (trees are written root first), so a walk always ends.
    if (feature >= QUERY_SHAPE_DIM || !(f.left[n]! > n && f.left[n]! < nodes) || !(f.right[n]! > n && f.right[n]! < nodes)) {
      throw new ArtifactError(`router artifact gbdt node ${n} is malformed`);
    }
  }
  for (const root of f.roots) if (root < 0 || root >= nodes) throw new ArtifactError(`router artifact gbdt root ${root} is outside its ${nodes} nodes`);
  for (let e = 0; e < f.firstTree.length; e++) {
    if (f.firstTree[e]! < 0 || f.treeCount[e]! < 0 || f.firstTree[e]! + f.treeCount[e]! > f.roots.length) throw new ArtifactError(`router artifact gbdt ensemble ${e} names trees it does not have`);
  }
}
