// Rewrites the generated metrics table in docs/metrics.md (run after the build): part of `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS_DOC, metricsTable, withMetricsTable } from '../dist/telemetry/metrics-doc.js';
import { GatewayMetrics } from '../dist/telemetry/metrics.js';

const path = join(import.meta.dirname, '..', '..', METRICS_DOC);
writeFileSync(path, withMetricsTable(readFileSync(path, 'utf8'), metricsTable(new GatewayMetrics().registry)));
console.log(`wrote ${METRICS_DOC}`);
