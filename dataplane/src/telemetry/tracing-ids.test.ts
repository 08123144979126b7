import { describe, expect, it } from '@jest/globals';
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { PooledIdGenerator } from './tracing-ids.js';

describe('PooledIdGenerator', () => {
  it('gives valid W3C trace and span ids, unique across many pool refills', () => {
    const ids = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      expect(isValidTraceId(traceId)).toBe(true);
      expect(isValidSpanId(spanId)).toBe(true);
      traces.add(traceId);
      spans.add(spanId);
    }
    expect(traces.size).toBe(5000);
    expect(spans.size).toBe(5000);
  });

  it('uses every byte value about equally (drawn from a CSPRNG, not a few fixed bits)', () => {
    const ids = new PooledIdGenerator();
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 4000; i++) for (const c of ids.generateTraceId()) counts[parseInt(c, 16)]!++;
    // 128,000 hex digits: 8,000 expected per digit; 4 % off would be > 10 standard deviations.
    for (const n of counts) expect(Math.abs(n - 8000)).toBeLessThan(320);
  });
});
