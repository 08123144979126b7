// The Helm chart without a cluster: the real helm 4 lints it, renders it with each switch, and
// validates values against values.schema.json; the chart's CRD copies match crds/generated; every
// value is documented and every object in the schema rejects unknown keys.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { chartDir, find, generatedCrdDir, helm, render, sets, type DeploymentShape, type Manifest } from './helm.ts';

const TIMEOUT = 60_000;
const EVERY_OPTION = { 'serviceMonitor.enabled': true, 'prometheusRule.enabled': true, 'grafanaDashboard.enabled': true, 'keda.enabled': true };

const operatorContainer = (objects: Manifest[]) => (find(objects, 'Deployment') as unknown as DeploymentShape).spec.template.spec.containers[0]!;

describe('the switchboard chart', () => {
  it('carries byte-identical copies of crds/generated (run charts/sync-crds.sh after npm run crds)', () => {
    const generated = readdirSync(generatedCrdDir).filter((f) => f.endsWith('.yaml')).sort();
    const copied = readdirSync(path.join(chartDir, 'files', 'crds')).sort();
    expect(copied).toEqual(generated);
    for (const file of generated) {
      expect(readFileSync(path.join(chartDir, 'files', 'crds', file), 'utf8')).toBe(readFileSync(path.join(generatedCrdDir, file), 'utf8'));
    }
  });

  it.each([
    ['default values', {}],
    ['every optional part on, two replicas, one watched namespace', { ...EVERY_OPTION, replicaCount: 2, watchNamespace: 'team-a' }],
    ['CRDs skipped, no PDB, no test hook', { 'crds.install': false, 'podDisruptionBudget.enabled': false, 'helmTest.enabled': false }],
  ])('passes helm lint --strict with %s', async (_title, values) => {
    for (const strict of [[], ['--strict']]) {
      const result = await helm(['lint', chartDir, ...strict, ...sets(values)]);
      expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(result.code).toBe(0);
    }
  }, TIMEOUT);

  it('renders the operator, its RBAC, Service, PDB, CRDs and test hook by default, and no optional part', async () => {
    const { objects } = await render('sb', 'switchboard-system');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/sb-switchboard',
      'ClusterRoleBinding/sb-switchboard',
      'CustomResourceDefinition/gatewayconfigs.switchboard.dev',
      'CustomResourceDefinition/routingmodels.switchboard.dev',
      'Deployment/sb-switchboard',
      'Pod/sb-switchboard-test-healthz',
      'PodDisruptionBudget/sb-switchboard',
      'Role/sb-switchboard-leader-election',
      'RoleBinding/sb-switchboard-leader-election',
      'Service/sb-switchboard',
      'ServiceAccount/sb-switchboard',
    ]);
  }, TIMEOUT);

  it('renders the CRDs as generated, adding only labels and the keep annotation', async () => {
    const generated = readdirSync(generatedCrdDir).map((f) => parse(readFileSync(path.join(generatedCrdDir, f), 'utf8')) as Manifest);
    const kept = (await render('sb', 'sb')).objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(kept).toHaveLength(generated.length);
    for (const crd of kept) {
      const source = generated.find((g) => g.metadata.name === crd.metadata.name)!;
      expect(crd.spec).toEqual(source.spec);
      expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect(crd.metadata.labels).toMatchObject({ ...source.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' });
    }
    const notKept = (await render('sb', 'sb', { 'crds.keep': false })).objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(notKept.map((c) => c.metadata.annotations)).toEqual([undefined, undefined]);
    const skipped = (await render('sb', 'sb', { 'crds.install': false })).objects;
    expect(skipped.filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
  }, TIMEOUT);

  it('turns leader election on when replicas > 1 (rolling update) and off for one replica (Recreate)', async () => {
    const one = await render('sb', 'ops');
    expect(operatorContainer(one.objects).args).toContain('--leader-elect=false');
    expect(operatorContainer(one.objects).args.some((a) => a.startsWith('--lease-'))).toBe(false);
    expect((find(one.objects, 'Deployment') as unknown as DeploymentShape).spec.strategy.type).toBe('Recreate');

    const two = await render('sb', 'ops', { replicaCount: 2 });
    expect(operatorContainer(two.objects).args).toEqual(expect.arrayContaining(['--leader-elect=true', '--lease-namespace=ops', '--lease-name=sb-switchboard', '--leader-elect-lease-duration=15s']));
    expect((find(two.objects, 'Deployment') as unknown as DeploymentShape).spec.strategy.type).toBe('RollingUpdate');

    const forced = await render('sb', 'ops', { 'leaderElection.enabled': true });
    expect(operatorContainer(forced.objects).args).toContain('--leader-elect=true');
  }, TIMEOUT);

  it('runs the operator and the test Pod under the restricted pod security standard', async () => {
    const { objects } = await render('sb', 'sb');
    const pod = (find(objects, 'Deployment') as unknown as DeploymentShape).spec.template.spec;
    const testPod = find(objects, 'Pod') as unknown as { spec: DeploymentShape['spec']['template']['spec'] };
    for (const spec of [pod, testPod.spec]) {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.containers[0]!.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
    expect(find(objects, 'Pod').metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
  }, TIMEOUT);

  it('passes the data-plane image and the watched namespace to the operator, with a namespaced Role', async () => {
    const { objects } = await render('sb', 'ops', { watchNamespace: 'team-a', 'dataPlane.image.tag': '1.2.3' });
    expect(operatorContainer(objects).args).toEqual(expect.arrayContaining(['--namespace=team-a', '--data-plane-image=ghcr.io/switchboard-dev/switchboard:1.2.3']));
    expect(find(objects, 'Role', 'sb-switchboard').metadata.namespace).toBe('team-a');
    expect(find(objects, 'RoleBinding', 'sb-switchboard').metadata.namespace).toBe('team-a');
    expect(objects.some((o) => o.kind === 'ClusterRole')).toBe(false);
  }, TIMEOUT);

  it('renders each optional part behind its own switch', async () => {
    const { objects } = await render('sb', 'mon', EVERY_OPTION);
    expect(find(objects, 'ServiceMonitor').spec).toMatchObject({ endpoints: [{ port: 'metrics', path: '/metrics' }] });
    const rules = (find(objects, 'PrometheusRule').spec as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups[0]!.rules;
    expect(rules.map((r) => r.alert)).toContain('SwitchboardOperatorDown');
    for (const rule of rules) expect(rule.expr).toContain('job="sb-switchboard",namespace="mon"');
    const dashboard = find(objects, 'ConfigMap', 'sb-switchboard-dashboard') as Manifest & { data: Record<string, string> };
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(JSON.parse(dashboard.data['switchboard-operator.json']!)).toMatchObject({ uid: 'switchboard-operator' });
    expect((find(objects, 'Service').spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name)).toEqual(['metrics', 'grpc-scaler']);
  }, TIMEOUT);

  it('with keda.enabled, serves the external scaler, owns ScaledObjects and may write them; without it, none of that', async () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
    const kedaRules = (o: Manifest) => (o as unknown as { rules: Rule[] }).rules.filter((r) => r.apiGroups.includes('keda.sh'));
    const servicePorts = (objects: Manifest[]) => (find(objects, 'Service').spec as { ports: Array<{ name: string; port: number; targetPort: string | number }> }).ports;

    const on = (await render('sb', 'ops', { 'keda.enabled': true, 'keda.externalScalerPort': 9555 })).objects;
    expect(operatorContainer(on).args).toEqual(expect.arrayContaining(['--external-scaler-port=9555', '--keda-scaler-address=sb-switchboard.ops.svc:9555']));
    expect(operatorContainer(on).ports).toContainEqual({ name: 'grpc-scaler', containerPort: 9555, protocol: 'TCP' });
    expect(servicePorts(on)).toContainEqual({ name: 'grpc-scaler', port: 9555, targetPort: 'grpc-scaler', protocol: 'TCP', appProtocol: 'grpc' });
    expect(kedaRules(find(on, 'ClusterRole'))).toEqual([{ apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] }]);
    const scoped = (await render('sb', 'ops', { 'keda.enabled': true, watchNamespace: 'team-a' })).objects;
    expect(kedaRules(find(scoped, 'Role', 'sb-switchboard'))).toHaveLength(1);
    expect(operatorContainer(scoped).args).toContain('--keda-scaler-address=sb-switchboard.ops.svc:9443');

    const { objects: off, text } = await render('sb', 'ops');
    expect(operatorContainer(off).args.filter((a) => /scaler/.test(a))).toEqual([]);
    expect(operatorContainer(off).ports.map((p) => p.name)).toEqual(['metrics']);
    expect(servicePorts(off).map((p) => p.name)).toEqual(['metrics']);
    expect(kedaRules(find(off, 'ClusterRole'))).toEqual([]);
    expect(text).not.toContain('keda.sh');
  }, TIMEOUT);

  it.each([
    ['an unknown top-level key', ['--set', 'replicas=2'], "at '': additional properties 'replicas' not allowed"],
    ['an unknown nested key', ['--set', 'crds.kep=true'], "at '/crds': additional properties 'kep' not allowed"],
    ['a wrong type', ['--set-string', 'replicaCount=two'], "at '/replicaCount'"],
    ['a log level that does not exist', ['--set', 'logLevel=verbose'], "at '/logLevel'"],
    ['both PDB bounds', ['--set', 'podDisruptionBudget.minAvailable=1'], 'set minAvailable or maxUnavailable, not both'],
  ])('rejects %s with a message naming it', async (_title, args, message) => {
    const result = await helm(['template', 'sb', chartDir, ...args]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  }, TIMEOUT);

  it('has a schema that closes every object (additionalProperties false, or a typed map)', () => {
    const schema = JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode;
    const open: string[] = [];
    const undocumented: string[] = [];
    walk(schema, '', (node, at) => {
      if (at !== '' && !node.description && !at.endsWith('[]')) undocumented.push(at);
      if (node.type !== 'object') return;
      // Kubernetes types passed through as they are (affinity terms, label selectors, EnvVars) are validated by the apiserver.
      if (node.description?.includes('a Kubernetes type')) return;
      if (node.additionalProperties === undefined || node.additionalProperties === true) open.push(at || '(root)');
    });
    expect(open).toEqual([]);
    expect(undocumented).toEqual([]);
  });

  it('documents every value in values.yaml with a comment above it, and the schema knows every value', () => {
    const schema = JSON.parse(readFileSync(path.join(chartDir, 'values.schema.json'), 'utf8')) as SchemaNode;
    const lines = readFileSync(path.join(chartDir, 'values.yaml'), 'utf8').split('\n');
    const undocumented: string[] = [];
    // The schema node of each open key, by indentation: entries of free-form maps (resource
    // quantities, labels) are data, not values of the chart, and need no comment.
    const stack: Array<{ indent: number; node: SchemaNode | undefined }> = [{ indent: -1, node: schema }];
    lines.forEach((line, i) => {
      const key = /^(\s*)([A-Za-z_][A-Za-z0-9_]*):/.exec(line);
      if (!key) return;
      const indent = key[1]!.length;
      while (stack.at(-1)!.indent >= indent) stack.pop();
      const node = stack.at(-1)!.node?.properties?.[key[2]!];
      stack.push({ indent, node });
      if (node === undefined) return;
      const previous = lines[i - 1]?.trim() ?? '';
      // A section header (its children are documented) needs no comment of its own.
      const opensSection = node.properties !== undefined && line.trim().endsWith(':');
      if (!previous.startsWith('#') && !opensSection) undocumented.push(`line ${i + 1}: ${line.trim()}`);
    });
    expect(undocumented).toEqual([]);
    const values = parse(lines.join('\n')) as Record<string, unknown>;
    expect(Object.keys(values).sort()).toEqual(Object.keys(schema.properties ?? {}).sort());
  });
});

interface SchemaNode {
  type?: string | string[];
  description?: string;
  additionalProperties?: boolean | SchemaNode;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
}

function walk(node: SchemaNode, at: string, visit: (node: SchemaNode, at: string) => void): void {
  visit(node, at);
  for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${at}/${key}`, visit);
  if (node.items) walk(node.items, `${at}[]`, visit);
}
