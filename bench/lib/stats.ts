// Order statistics over latency samples (milliseconds).
import type { ThroughputResult } from './jobs.ts';

/** Nearest-rank percentile of an ascending-sorted array; NaN when empty. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Typed arrays sort numerically (plain arrays would sort as strings). */
export function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(sortedCopy(values), p);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** The geometric mean of positive values (ratios: a round at 0.5 and one at 2 average to 1). */
export function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

export interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = sortedCopy(values);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

/** Formats a millisecond figure with a precision that suits its size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  return `${value.toFixed(abs < 1 ? 3 : abs < 10 ? 2 : 1)} ms`;
}

/** An open-loop step holds when nothing failed, p99 stayed bounded and no queue built up. */
export function openLoopCheck(r: Pick<ThroughputResult, 'errors' | 'completed' | 'offered' | 'latencies'>): { held: boolean; p50: number; p99: number; firstQuarter: number; lastQuarter: number } {
  const all = summarize(finite(r.latencies));
  const quarter = Math.max(1, Math.floor(r.latencies.length / 4));
  const firstQuarter = median(finite(r.latencies.slice(0, quarter)));
  const lastQuarter = median(finite(r.latencies.slice(-quarter)));
  const held = r.errors === 0 && r.completed === r.offered && all.p99 <= 100 && lastQuarter <= 2 * firstQuarter + 1;
  return { held, p50: all.p50, p99: all.p99, firstQuarter, lastQuarter };
}

/** Samples that came back as numbers (IPC turns NaN, an error, into null). */
export function finite(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}
