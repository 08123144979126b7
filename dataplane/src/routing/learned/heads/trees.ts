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
  /**
   * Node n at words 4n..4n+3: the feature it splits on (-1 for a leaf), its threshold or leaf
   * value (float32 bits, read through `thresholds`), then its left and right child as word offsets
   * (4 × node index). One buffer, so a step down a tree touches one cache line, not four arrays.
   */
  nodes: Int32Array;
  /** Float32 view of `nodes`: the threshold or leaf value of node n at 4n + 1. */
  thresholds: Float32Array;
  /** Per tree: its root node's word offset. */
  roots: Int32Array;
  /** Per ensemble (bag member b, model k at b * models + k): its first tree and its tree count. */
  firstTree: Int32Array;
  treeCount: Int32Array;
  /** Per ensemble: the raw score before its trees. */
  base: Float32Array;
}

function emptyForest(nodes: number, trees: number, ensembles: number): Forest {
  const packed = new Int32Array(nodes * 4);
  return {
    nodes: packed,
    thresholds: new Float32Array(packed.buffer),
    roots: new Int32Array(trees),
    firstTree: new Int32Array(ensembles),
    treeCount: new Int32Array(ensembles),
    base: new Float32Array(ensembles),
  };
}

function flatten(ensembles: readonly Trees[]): Forest {
  let nodes = 0;
  let trees = 0;
  for (const e of ensembles) {
    nodes += e.feature.length;
    trees += e.roots.length;
  }
  const forest = emptyForest(nodes, trees, ensembles.length);
  let node = 0;
  let tree = 0;
  ensembles.forEach((e, i) => {
    forest.firstTree[i] = tree;
    forest.treeCount[i] = e.roots.length;
    forest.base[i] = e.base;
    for (const root of e.roots) forest.roots[tree++] = 4 * (node + root);
    for (let n = 0; n < e.feature.length; n++) {
      const at = 4 * (node + n);
      const leaf = e.feature[n]! < 0;
      forest.nodes[at] = e.feature[n]!;
      forest.thresholds[at + 1] = e.threshold[n]!;
      forest.nodes[at + 2] = leaf ? -1 : 4 * (node + e.left[n]!);
      forest.nodes[at + 3] = leaf ? -1 : 4 * (node + e.right[n]!);
    }
    node += e.feature.length;
  });
  return forest;
}

/** Labels of model k's scored rows (rows the data does not score for it are left out). */
function scoredRows(set: TrainingSet, k: number): { labels: Float64Array; rows: Int32Array } {
  const m = set.models.length;
  const n = set.targets.length / m;
  const labels = new Float64Array(n);
  const rows: number[] = [];
  for (let r = 0; r < n; r++) {
    const y = set.targets[r * m + k]!;
    if (Number.isNaN(y)) continue;
    labels[r] = y;
    rows.push(r);
  }
  return { labels, rows: Int32Array.from(rows) };
}

export class TreesHead implements RouterHead {
  readonly kind = 'gbdt';
  readonly readsFeatures = false;
  readonly modelCount: number;
  private readonly p: TreesParams;
  private readonly forest: Forest;
  private readonly shape = new Float64Array(QUERY_SHAPE_DIM);

  constructor(params: TreesParams, modelCount: number, forest: Forest) {
    this.p = params;
    this.modelCount = modelCount;
    this.forest = forest;
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
    const edges = binEdges(columns, p.bins);
    const binned = binColumns(columns, edges);
    const perModel = Array.from({ length: m }, (_, k) => scoredRows(set, k));
    const ensembles: Trees[] = [];
    for (let b = 0; b < p.bag; b++) {
      perModel.forEach(({ labels, rows }, k) => {
        const memberSeed = (seed * 1_000_003 + b * 101 + k) >>> 0;
        const split = seededRandom(memberSeed ^ 0x5eed);
        const fit: number[] = [];
        const valid: number[] = [];
        for (const r of rows) (split() < p.validation ? valid : fit).push(r);
        const probe = new Booster(binned, edges, labels, p, memberSeed);
        const rounds = probe.fit(Int32Array.from(fit), p.maxRounds, Int32Array.from(valid), p.patience);
        const booster = new Booster(binned, edges, labels, p, memberSeed);
        booster.fit(rows, Math.max(1, Math.round(rounds * p.refit)));
        ensembles.push(booster.trees);
      });
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
    const thresholds = tensor(artifact, 'gbdt.thresholds', Float32Array, [nodes]);
    const roots = tensor(artifact, 'gbdt.roots', Int32Array, [undefined]);
    const ensembles = tensor(artifact, 'gbdt.ensembles', Int32Array, [p.bag * m, 2]);
    checkForest(children, roots, ensembles);
    const forest = emptyForest(nodes, roots.length, p.bag * m);
    for (let n = 0; n < nodes; n++) {
      const leaf = children[3 * n]! < 0;
      forest.nodes[4 * n] = children[3 * n]!;
      forest.thresholds[4 * n + 1] = thresholds[n]!;
      forest.nodes[4 * n + 2] = leaf ? -1 : 4 * children[3 * n + 1]!;
      forest.nodes[4 * n + 3] = leaf ? -1 : 4 * children[3 * n + 2]!;
    }
    roots.forEach((root, t) => (forest.roots[t] = 4 * root));
    for (let e = 0; e < p.bag * m; e++) {
      forest.firstTree[e] = ensembles[2 * e]!;
      forest.treeCount[e] = ensembles[2 * e + 1]!;
    }
    forest.base.set(tensor(artifact, 'gbdt.base', Float32Array, [p.bag * m]));
    return new TreesHead(p, m, forest);
  }

  predict(_x: SparseVector, out: Float64Array, query: string): void {
    const x = queryShape(query, this.shape);
    const { nodes, thresholds, roots, firstTree, treeCount, base } = this.forest;
    const m = this.modelCount;
    out.fill(0, 0, m);
    for (let e = 0; e < firstTree.length; e++) {
      let z = base[e]!;
      const end = firstTree[e]! + treeCount[e]!;
      for (let t = firstTree[e]!; t < end; t++) {
        let at = roots[t]!;
        for (let feature = nodes[at]!; feature >= 0; feature = nodes[at]!) at = x[feature]! <= thresholds[at + 1]! ? nodes[at + 2]! : nodes[at + 3]!;
        z += thresholds[at + 1]!;
      }
      out[e % m]! += 1 / (1 + Math.exp(-z));
    }
    for (let k = 0; k < m; k++) out[k]! /= this.p.bag;
  }

  tensors(): Tensor[] {
    const f = this.forest;
    const nodes = f.nodes.length / 4;
    const children = new Int32Array(nodes * 3);
    const thresholds = new Float32Array(nodes);
    for (let n = 0; n < nodes; n++) {
      const leaf = f.nodes[4 * n]! < 0;
      children[3 * n] = f.nodes[4 * n]!;
      children[3 * n + 1] = leaf ? -1 : f.nodes[4 * n + 2]! / 4;
      children[3 * n + 2] = leaf ? -1 : f.nodes[4 * n + 3]! / 4;
      thresholds[n] = f.thresholds[4 * n + 1]!;
    }
    const ensembles = new Int32Array(f.firstTree.length * 2);
    for (let e = 0; e < f.firstTree.length; e++) {
      ensembles[2 * e] = f.firstTree[e]!;
      ensembles[2 * e + 1] = f.treeCount[e]!;
    }
    return [
      { name: 'gbdt.nodes', shape: [nodes, 3], data: children },
      { name: 'gbdt.thresholds', shape: [nodes], data: thresholds },
      { name: 'gbdt.roots', shape: [f.roots.length], data: f.roots.map((root) => root / 4) },
      { name: 'gbdt.ensembles', shape: [f.firstTree.length, 2], data: ensembles },
      { name: 'gbdt.base', shape: [f.base.length], data: f.base },
    ];
  }

  params(): Record<string, unknown> {
    return { ...this.p, features: QUERY_SHAPE_VERSION };
  }
}

/**
 * Every index of a loaded forest (`children`: feature, left, right per node) points inside it,
 * so predict() cannot wander off or loop.
 */
function checkForest(children: Int32Array, roots: Int32Array, ensembles: Int32Array): void {
  const nodes = children.length / 3;
  for (let n = 0; n < nodes; n++) {
    const feature = children[3 * n]!;
    if (feature < 0) continue;
    const left = children[3 * n + 1]!;
    const right = children[3 * n + 2]!;
    // Children come after their parent (trees are written root first), so a walk always ends.
    if (feature >= QUERY_SHAPE_DIM || !(left > n && left < nodes) || !(right > n && right < nodes)) {
      throw new ArtifactError(`router artifact gbdt node ${n} is malformed`);
    }
  }
  for (const root of roots) if (root < 0 || root >= nodes) throw new ArtifactError(`router artifact gbdt root ${root} is outside its ${nodes} nodes`);
  for (let e = 0; e < ensembles.length / 2; e++) {
    const first = ensembles[2 * e]!;
    const count = ensembles[2 * e + 1]!;
    if (first < 0 || count < 0 || first + count > roots.length) throw new ArtifactError(`router artifact gbdt ensemble ${e} names trees it does not have`);
  }
}
