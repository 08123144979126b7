// How often a traced request's trace id replaces its histogram bucket's exemplar. A bucket shows
// one exemplar per scrape (the latest), and scrapes are seconds apart, so replacing it on every
// traced request only costs: prom-client hashes the labels again, validates the exemplar's label
// set and takes the time, ~0.3 µs alone and more inside a loaded gateway. Admitting one per
// bucket per interval keeps every bucket's exemplar recent.

export class ExemplarGate {
  /** When each bucket (by label set) last took an exemplar: model → operation → times, +Inf last. */
  private readonly last = new Map<string, Map<string, Float64Array>>();

  constructor(
    /** The histogram's upper bounds, ascending. */
    private readonly bounds: readonly number[],
    private readonly intervalMs: number,
  ) {}

  /** Whether an observation of `value` for `model` and `operation` at `now` (ms) should carry its exemplar. */
  admit(model: string, operation: string, value: number, now: number): boolean {
    let byOperation = this.last.get(model);
    if (byOperation === undefined) this.last.set(model, (byOperation = new Map()));
    let times = byOperation.get(operation);
    if (times === undefined) byOperation.set(operation, (times = new Float64Array(this.bounds.length + 1).fill(Number.NEGATIVE_INFINITY)));
    const bucket = this.bucketOf(value);
    if (now - times[bucket]! < this.intervalMs) return false;
    times[bucket] = now;
    return true;
  }

  /** The first bucket whose upper bound holds `value` (le), as prom-client counts it; the last is +Inf. */
  private bucketOf(value: number): number {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    return i;
  }
}
