import { describe, expect, it } from '@jest/globals';
import { GatewayMetrics } from './metrics.js';

async function exemplarsOf(metrics: GatewayMetrics): Promise<string[]> {
  const text = await metrics.openMetrics.metrics();
  return text.split('\n').filter((l) => l.startsWith('switchboard_request_duration_seconds_bucket') && l.includes('# {trace_id='));
}

describe('GatewayMetrics.observeDuration', () => {
  it("counts every request, and a bucket keeps the first traced request's trace id for the interval", async () => {
    const metrics = new GatewayMetrics();
    metrics.observeDuration('chat', 'chat', 0.02, 'a'.repeat(32));
    metrics.observeDuration('chat', 'chat', 0.021, 'b'.repeat(32));
    metrics.observeDuration('chat', 'chat', 0.022, undefined);
    metrics.observeDuration('chat', 'chat', 3, 'c'.repeat(32));
    const lines = await exemplarsOf(metrics);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/le="0.025",model="chat",operation="chat"\} 3 # \{trace_id="a{32}"\} 0.02 /);
    expect(lines[1]).toMatch(/le="5",model="chat",operation="chat"\} 4 # \{trace_id="c{32}"\} 3 /);
  });

  it('with an interval of 0, the latest traced request in a bucket is its exemplar', async () => {
    const metrics = new GatewayMetrics(0);
    metrics.observeDuration('chat', 'chat', 0.02, 'a'.repeat(32));
    metrics.observeDuration('chat', 'chat', 0.021, 'b'.repeat(32));
    expect(await exemplarsOf(metrics)).toEqual([expect.stringMatching(/le="0.025".* # \{trace_id="b{32}"\} 0.021 /)]);
  });
});
