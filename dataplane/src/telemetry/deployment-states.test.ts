import { describe, expect, it } from '@jest/globals';
import type { DeploymentTarget, ModelGroup, RuntimeState } from '../config/runtime-state.js';
import { HealthRegistry } from '../routing/health.js';
import { deploymentStates } from './deployment-states.js';
import { GatewayMetrics } from './metrics.js';

function group(name: string, deployments: string[]): ModelGroup {
  return { name, strategy: 'weighted', fallbacks: [], deployments: deployments.map((d) => ({ name: d, alias: name }) as DeploymentTarget) };
}

const state = { models: new Map([['chat', group('chat', ['a', 'b'])], ['embed', group('embed', ['c'])]]) } as unknown as RuntimeState;

describe('deploymentStates', () => {
  it('reports every deployment of the config with its circuit, tries in flight and first-byte average', () => {
    const health = new HealthRegistry();
    health.get('a').recordFailure(1000, 1, 30_000);
    health.get('b').inFlight = 2;
    health.get('b').recordTtfb(40);
    expect([...deploymentStates(state, health, 2000)]).toEqual([
      { model: 'chat', deployment: 'a', open: true, inFlight: 0, firstByteMs: undefined },
      { model: 'chat', deployment: 'b', open: false, inFlight: 2, firstByteMs: 40 },
      { model: 'embed', deployment: 'c', open: false, inFlight: 0, firstByteMs: undefined },
    ]);
    // Once the cooldown has passed the circuit closes again.
    expect([...deploymentStates(state, health, 40_000)][0]!.open).toBe(false);
  });

  it('feeds the gauges at scrape time, leaving out the average of a deployment that never answered', async () => {
    const health = new HealthRegistry();
    health.get('b').recordTtfb(250);
    const metrics = new GatewayMetrics();
    metrics.readDeployments(() => deploymentStates(state, health, 0));
    const text = await metrics.registry.metrics();
    expect(text).toContain('switchboard_circuit_breaker_open{model="chat",deployment="a"} 0');
    expect(text).toContain('switchboard_deployment_in_flight_requests{model="embed",deployment="c"} 0');
    expect(text).toContain('switchboard_deployment_first_byte_ewma_seconds{model="chat",deployment="b"} 0.25');
    expect(text).not.toContain('switchboard_deployment_first_byte_ewma_seconds{model="chat",deployment="a"}');
  });
});
