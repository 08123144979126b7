// The table of gateway metrics in docs/metrics.md, generated from the registry so the docs and
// the code never disagree (checked by metrics-doc.test.ts; rewritten by `npm run docs`).
import type { MetricObject, Registry } from 'prom-client';

export const METRICS_DOC = 'docs/metrics.md';
const START = '<!-- metrics:start (generated from dataplane/src/telemetry/metrics.ts by `npm run docs`) -->';
const END = '<!-- metrics:end -->';
/** Node.js process metrics from prom-client's default collectors; their set depends on the platform. */
const PROCESS_PREFIX = 'switchboard_process_';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function metricsTable(registry: Registry): string {
  const rows = registry
    .getMetricsAsArray()
    .filter((m) => !m.name.startsWith(PROCESS_PREFIX))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const labels = (m as MetricObject & { labelNames?: readonly string[] }).labelNames ?? [];
      return `| \`${m.name}\` | ${m.type} | ${labels.map((l) => `\`${l}\``).join(', ')} | ${cell(m.help)} |`;
    });
  return [
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Plus the Node.js process metrics of prom-client's default collectors, prefixed \`${PROCESS_PREFIX}\` (CPU, resident memory, heap, event loop lag, GC, open handles).`,
  ].join('\n');
}

/** `doc` with the text between its markers replaced by `table`. */
export function withMetricsTable(doc: string, table: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${METRICS_DOC}: the markers ${START} and ${END} are missing`);
  return `${doc.slice(0, start + START.length)}\n${table}\n${doc.slice(end)}`;
}
