// What every router head is: given a featurized query, a predicted quality for each model.
import type { Tensor } from '../artifact.js';
import type { SparseRows, SparseVector } from '../sparse.js';

/** Featurized training data: one row per query, targets[r * models + k] is model k's score (NaN if unscored). */
export interface TrainingSet {
  rows: SparseRows;
  targets: Float32Array;
  models: readonly string[];
  /** The raw query texts, for heads that read the text itself (rules). */
  queries?: readonly string[];
}

export interface RouterHead {
  readonly kind: string;
  readonly modelCount: number;
  /** False for heads that read only the query text (rules, gbdt): the router then skips featurizing. */
  readonly readsFeatures: boolean;
  /** Writes a predicted quality in [0, 1] for every model into `out` (length modelCount). */
  predict(x: SparseVector, out: Float64Array, query: string): void;
  tensors(): Tensor[];
  params(): Record<string, unknown>;
}

/** Per-model mean of the observed scores (0.5 for a model with none). */
export function modelMeans(set: TrainingSet): Float64Array {
  const m = set.models.length;
  const sum = new Float64Array(m);
  const count = new Float64Array(m);
  for (let i = 0; i < set.targets.length; i++) {
    const y = set.targets[i]!;
    if (Number.isNaN(y)) continue;
    sum[i % m]! += y;
    count[i % m]! += 1;
  }
  return sum.map((s, k) => (count[k]! > 0 ? s / count[k]! : 0.5));
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

export function booleanParam(params: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = params[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`head parameter ${name}: got ${JSON.stringify(v)}; expected true or false`);
  return v;
}

export function numberParam(params: Record<string, unknown>, name: string, fallback: number, check: (v: number) => boolean, expected: string): number {
  const v = params[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !check(v)) throw new Error(`head parameter ${name}: got ${JSON.stringify(v)}; expected ${expected}`);
  return v;
}
