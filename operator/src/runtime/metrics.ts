import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'switchboard_operator_';

type Config<T extends string> = { name: string; help: string; labelNames: readonly T[] };

// Several queues, controllers or informers share one registry: the first creates a metric, the
// rest reuse it (prom-client refuses to register a name twice).
function reuse<M>(registry: Registry, name: string, create: () => M): M {
  const existing = registry.getSingleMetric(name);
  return existing ? (existing as unknown as M) : create();
}

export function counter<T extends string>(registry: Registry, c: Config<T>): Counter<T> {
  const name = METRIC_PREFIX + c.name;
  return reuse(registry, name, () => new Counter({ name, help: c.help, labelNames: c.labelNames, registers: [registry] }));
}

export function gauge<T extends string>(registry: Registry, c: Config<T>): Gauge<T> {
  const name = METRIC_PREFIX + c.name;
  return reuse(registry, name, () => new Gauge({ name, help: c.help, labelNames: c.labelNames, registers: [registry] }));
}

export function histogram<T extends string>(registry: Registry, c: Config<T> & { buckets: number[] }): Histogram<T> {
  const name = METRIC_PREFIX + c.name;
  return reuse(registry, name, () => new Histogram({ name, help: c.help, labelNames: c.labelNames, buckets: c.buckets, registers: [registry] }));
}

/** Seconds, from 1 ms to ~1 min: reconciles and queue waits. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
