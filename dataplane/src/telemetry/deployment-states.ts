// The live state of every deployment in the current config (circuit breaker, tries in flight,
// EWMA of time to first byte), read from the health registry at scrape time.
import type { RuntimeState } from '../config/runtime-state.js';
import type { HealthRegistry } from '../routing/health.js';
import type { DeploymentState } from './metrics.js';

export function* deploymentStates(state: RuntimeState, health: HealthRegistry, now: number): Iterable<DeploymentState> {
  for (const group of state.models.values()) {
    for (const target of group.deployments) {
      const h = health.get(target.name);
      yield { model: group.name, deployment: target.name, open: h.isCooling(now), inFlight: h.inFlight, firstByteMs: h.ttfbMs };
    }
  }
}
