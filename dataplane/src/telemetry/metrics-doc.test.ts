import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayMetrics } from './metrics.js';
import { METRICS_DOC, metricsTable, withMetricsTable } from './metrics-doc.js';
import { FAILURE_CLASSES, ROUTE_CLASSES } from './route-class.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', METRICS_DOC), 'utf8');
const registry = new GatewayMetrics().registry;

describe('docs/metrics.md', () => {
  it('holds the table generated from the registry, so every metric is documented (run `npm run docs` after changing one)', () => {
    expect(withMetricsTable(doc, metricsTable(registry))).toBe(doc);
  });

  it('explains every route class and failure class a label can take', () => {
    for (const value of [...ROUTE_CLASSES, ...FAILURE_CLASSES]) expect(doc).toContain(`\`${value}\``);
  });
});

describe('metric names', () => {
  it('carry the switchboard_ prefix, _total on counters and a unit on histograms', () => {
    for (const m of registry.getMetricsAsArray()) {
      expect(m.name).toMatch(/^switchboard_/);
      if (String(m.type) === 'counter') expect(m.name).toMatch(/_total$/);
      if (String(m.type) === 'histogram') expect(m.name).toMatch(/_(seconds|bytes|tokens)$/);
    }
  });
});
