import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '../../seeded-random.js';
import { binColumns, binEdges, Booster, type BoostParams, type Trees } from './gbdt.js';

const params: BoostParams = { learningRate: 0.1, leaves: 8, minLeafRows: 5, l2: 1, rowFraction: 1, featureFraction: 1, bins: 64 };
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Rows with two informative features and one of noise; the label's chance depends on an interaction. */
function data(n: number, seed: number): { columns: Float64Array[]; labels: Float64Array; chance: (x: number[]) => number } {
  const random = seededRandom(seed);
  const columns = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const labels = new Float64Array(n);
  const chance = (x: number[]): number => (x[0]! > 0.5 ? (x[1]! > 0.3 ? 0.95 : 0.2) : 0.05);
  for (let r = 0; r < n; r++) {
    const x = [random(), random(), random()];
    x.forEach((v, f) => (columns[f]![r] = v));
    labels[r] = random() < chance(x) ? 1 : 0;
  }
  return { columns, labels, chance };
}

const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, r) => r);

/** The leaf a row of raw feature values reaches in the tree at `root`. */
function leafOf(t: Trees, root: number, x: ArrayLike<number>): number {
  let n = root;
  while (t.feature[n]! >= 0) n = x[t.feature[n]!]! <= t.threshold[n]! ? t.left[n]! : t.right[n]!;
  return n;
}

/** Raw score (log-odds) of a row: the base plus every tree's leaf value. */
function rawScore(t: Trees, x: ArrayLike<number>): number {
  return t.roots.reduce((z, root) => z + t.threshold[leafOf(t, root, x)]!, t.base);
}

describe('binning', () => {
  it('puts a value in bin b exactly when it is at most edge b, so raw thresholds split as the bins did', () => {
    const { columns } = data(500, 1);
    const edges = binEdges(columns, 16);
    const binned = binColumns(columns, edges);
    columns.forEach((column, f) => {
      const e = edges[f]!;
      expect(e.length).toBeLessThanOrEqual(15);
      for (let i = 1; i < e.length; i++) expect(e[i]!).toBeGreaterThan(e[i - 1]!);
      for (let r = 0; r < column.length; r++) {
        const b = binned[f]![r]!;
        if (b < e.length) expect(column[r]!).toBeLessThanOrEqual(e[b]!);
        if (b > 0) expect(column[r]!).toBeGreaterThan(e[b - 1]!);
      }
    });
  });

  it('gives a constant feature no edge and a two-valued one a single edge', () => {
    const edges = binEdges([new Float64Array([3, 3, 3, 3]), new Float64Array([0, 1, 0, 1])], 255);
    expect(Array.from(edges[0]!)).toEqual([]);
    expect(Array.from(edges[1]!)).toEqual([0]);
  });
});

describe('boosting', () => {
  it('learns an interaction of two features and ignores the noise feature', () => {
    const train = data(4000, 2);
    const edges = binEdges(train.columns, params.bins);
    const booster = new Booster(binColumns(train.columns, edges), edges, train.labels, params, 3);
    booster.fit(all(4000), 60);
    const trees = booster.trees;
    expect(trees.roots).toHaveLength(60);
    // The first split is the one that matters most: feature 0 at 0.5.
    expect(trees.feature[trees.roots[0]!]).toBe(0);
    expect(Math.abs(trees.threshold[trees.roots[0]!]! - 0.5)).toBeLessThan(0.03);
    expect(trees.feature.filter((f) => f === 2).length).toBeLessThan(trees.feature.filter((f) => f === 0 || f === 1).length / 2);
    const test = data(1000, 9);
    let error = 0;
    for (let r = 0; r < 1000; r++) {
      const x = [test.columns[0]![r]!, test.columns[1]![r]!, test.columns[2]![r]!];
      error += Math.abs(sigmoid(rawScore(trees, x)) - test.chance(x));
    }
    expect(error / 1000).toBeLessThan(0.05);
  });

  it('stops early on held-out rows and keeps only the trees up to the best round', () => {
    // Labels that are pure noise: the held-out loss is best after very few trees.
    const random = seededRandom(4);
    const columns = [Float64Array.from({ length: 2000 }, () => random())];
    const labels = Float64Array.from({ length: 2000 }, () => (random() < 0.5 ? 1 : 0));
    const edges = binEdges(columns, 255);
    const booster = new Booster(binColumns(columns, edges), edges, labels, { ...params, minLeafRows: 1, leaves: 31 }, 5);
    const kept = booster.fit(all(1600), 500, Int32Array.from({ length: 400 }, (_, i) => 1600 + i), 20);
    expect(kept).toBeLessThan(40);
    expect(booster.trees.roots).toHaveLength(kept);
    const last = booster.trees.roots.at(-1) ?? 0;
    expect(booster.trees.feature.length).toBeGreaterThan(last);
  });

  it('is deterministic for a seed and differs across seeds when it samples', () => {
    const train = data(1000, 6);
    const edges = binEdges(train.columns, params.bins);
    const binned = binColumns(train.columns, edges);
    const fit = (seed: number): number[] => {
      const b = new Booster(binned, edges, train.labels, { ...params, rowFraction: 0.7, featureFraction: 0.67 }, seed);
      b.fit(all(1000), 10);
      return b.trees.threshold;
    };
    expect(fit(1)).toEqual(fit(1));
    expect(fit(1)).not.toEqual(fit(2));
  });

  it('respects the leaf count and the minimum rows per leaf', () => {
    const train = data(300, 7);
    const edges = binEdges(train.columns, params.bins);
    const binned = binColumns(train.columns, edges);
    const booster = new Booster(binned, edges, train.labels, { ...params, leaves: 4, minLeafRows: 40 }, 1);
    booster.fit(all(300), 5);
    const t = booster.trees;
    for (let i = 0; i < t.roots.length; i++) {
      const end = i + 1 < t.roots.length ? t.roots[i + 1]! : t.feature.length;
      const leaves = t.feature.slice(t.roots[i]!, end).filter((f) => f < 0).length;
      expect(leaves).toBeLessThanOrEqual(4);
      // Count the rows reaching each leaf of this tree.
      const reach = new Map<number, number>();
      for (let r = 0; r < 300; r++) {
        const n = leafOf(t, t.roots[i]!, train.columns.map((column) => column[r]!));
        reach.set(n, (reach.get(n) ?? 0) + 1);
      }
      if (leaves > 1) for (const count of reach.values()) expect(count).toBeGreaterThanOrEqual(40);
    }
  });
});
