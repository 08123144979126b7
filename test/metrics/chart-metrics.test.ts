// The chart's gateway alerts and dashboard against the gateway's real registry: every data-plane
// metric they name exists with the labels they match on and the class values they select, and
// helm renders the gateway ServiceMonitor, the rule group and both dashboards behind their switches.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MetricObject } from 'prom-client';
import { GatewayMetrics } from '../../dataplane/src/telemetry/metrics.js';
import { FAILURE_CLASSES, ROUTE_CLASSES } from '../../dataplane/src/telemetry/route-class.js';
import { chartDir, find, render, type Manifest } from '../chart/helm.ts';

const TIMEOUT = 60_000;
const SOURCES = ['templates/prometheusrule.yaml', 'files/dashboards/switchboard-gateway.json'];
/** Labels Prometheus adds (target labels) or histograms carry, not the gateway's own. */
const TARGET_LABELS = new Set(['namespace', 'job', 'pod', 'instance', 'le']);

const labelNames = new Map(
  new GatewayMetrics().registry.getMetricsAsArray().map((m) => [m.name, (m as MetricObject & { labelNames?: readonly string[] }).labelNames ?? []] as const),
);

interface Use {
  source: string;
  metric: string;
  matchers: Array<{ label: string; value: string }>;
}

/** Every `switchboard_*{...}` selector of the gateway metrics in the chart's rules and dashboards. */
function uses(): Use[] {
  const out: Use[] = [];
  for (const source of SOURCES) {
    const text = readFileSync(path.join(chartDir, source), 'utf8').replace(/\\"/g, '"');
    for (const m of text.matchAll(/\b(switchboard_(?!operator_)[a-z0-9_]+)(\{[^}]*\})?/g)) {
      const metric = m[1]!.replace(/_(bucket|sum|count)$/, '');
      const matchers = [...(m[2] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({ label: x[1]!, value: x[2]! }));
      out.push({ source, metric, matchers });
    }
  }
  return out;
}

describe('the chart against the gateway metrics', () => {
  it('names only metrics the gateway registers, with labels they have', () => {
    const found = uses();
    expect(found.length).toBeGreaterThan(20);
    for (const use of found) {
      expect({ source: use.source, metric: use.metric, known: labelNames.has(use.metric) }).toEqual({ source: use.source, metric: use.metric, known: true });
      for (const { label } of use.matchers) if (!TARGET_LABELS.has(label)) expect(labelNames.get(use.metric)).toContain(label);
    }
  });

  it('selects route and failure classes that exist', () => {
    const classes = uses().flatMap((u) => u.matchers.filter((m) => m.label === 'route' || (m.label === 'reason' && u.metric !== 'switchboard_shed_total')).map((m) => ({ ...m, metric: u.metric })));
    expect(classes.length).toBeGreaterThan(0);
    for (const c of classes) {
      const allowed: readonly string[] = c.metric === 'switchboard_upstream_failures_total' ? FAILURE_CLASSES : ROUTE_CLASSES;
      expect(allowed).toContain(c.value);
    }
  });

  it('renders the gateway ServiceMonitor only with serviceMonitor.gateways, on the admin port of the watched namespace or every namespace', async () => {
    const off = (await render('sb', 'mon', { 'serviceMonitor.enabled': true })).objects;
    expect(off.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.name)).toEqual(['sb-switchboard']);

    const all = (await render('sb', 'mon', { 'serviceMonitor.enabled': true, 'serviceMonitor.gateways': true })).objects;
    const monitor = find(all, 'ServiceMonitor', 'sb-switchboard-gateways') as Manifest & { spec: Record<string, unknown> };
    expect(monitor.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'switchboard', 'app.kubernetes.io/component': 'gateway' } },
      namespaceSelector: { any: true },
      endpoints: [{ port: 'admin', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
    });
    const scoped = (await render('sb', 'mon', { 'serviceMonitor.enabled': true, 'serviceMonitor.gateways': true, watchNamespace: 'team-a' })).objects;
    expect((find(scoped, 'ServiceMonitor', 'sb-switchboard-gateways') as Manifest & { spec: { namespaceSelector: unknown } }).spec.namespaceSelector).toEqual({ matchNames: ['team-a'] });
  }, TIMEOUT);

  it('renders the gateway alert group next to the operator one, and both dashboards', async () => {
    const { objects } = await render('sb', 'mon', { 'prometheusRule.enabled': true, 'grafanaDashboard.enabled': true });
    const groups = (find(objects, 'PrometheusRule').spec as { groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; annotations: Record<string, string> }> }> }).groups;
    expect(groups.map((g) => g.name)).toEqual(['switchboard-operator', 'switchboard-gateway']);
    const gateway = groups[1]!.rules;
    expect(gateway.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['SwitchboardGatewayErrors', 'SwitchboardGatewayUpstreamFailing', 'SwitchboardGatewayCircuitOpen', 'SwitchboardGatewayShedding']),
    );
    // Helm leaves Prometheus's own templating in the annotations.
    expect(gateway.find((r) => r.alert === 'SwitchboardGatewayCircuitOpen')!.annotations.summary).toContain('{{ $labels.deployment }}');
    const data = (find(objects, 'ConfigMap', 'sb-switchboard-dashboard') as Manifest & { data: Record<string, string> }).data;
    expect(Object.keys(data).sort()).toEqual(['switchboard-gateway.json', 'switchboard-operator.json']);
    const dashboard = JSON.parse(data['switchboard-gateway.json']!) as { uid: string; panels: Array<{ title: string }> };
    expect(dashboard.uid).toBe('switchboard-gateway');
    expect(dashboard.panels.map((p) => p.title)).toEqual(expect.arrayContaining(['Routing decisions per second', 'Spend per hour', 'Circuit breakers open', 'Time to first token']));
  }, TIMEOUT);
});
