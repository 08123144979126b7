// The circuit breaker state of every deployment in the current config, read at scrape time.
import type { RuntimeState } from '../config/runtime-state.js';
import type { HealthRegistry } from '../routing/health.js';
import type { CircuitState } from './metrics.js';

export function* circuitStates(state: RuntimeState, health: HealthRegistry, now: number): Iterable<CircuitState> {
  for (const group of state.models.values()) {
    for (const target of group.deployments) yield { model: group.name, deployment: target.name, open: health.get(target.name).isCooling(now) };
  }
}
