// The generated CRDs on a real kube-apiserver: every case of the table is applied with
// `kubectl apply --dry-run=server` and accepted, or rejected with its expected message (CEL rule
// messages and OpenAPI errors alike); `kubectl explain` teaches the API from the field docs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { loadCases, manifest } from './cases.js';

const TIMEOUT = 120_000;
const NAMESPACE = 'crd-cases';
const GENERATED = path.join(import.meta.dirname, '..', '..', 'crds', 'generated');
const cases = loadCases();

/** Retries a kubectl command until it succeeds (discovery and OpenAPI publishing lag a CRD). */
async function eventually(cluster: Cluster, args: string[], timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await cluster.kubectl(args);
    if (result.code === 0) return result.stdout;
    if (Date.now() > deadline) throw new Error(`kubectl ${args.join(' ')} kept failing: ${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('CustomResourceDefinitions on a real kube-apiserver', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
    const install = await cluster.kubectl(['apply', '-f', GENERATED]);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    const established = await cluster.kubectl([
      'wait', '--for=condition=Established', '--timeout=60s',
      'crd/gatewayconfigs.switchboard.dev', 'crd/routingmodels.switchboard.dev',
    ]);
    expect(established.code).toBe(0);
    expect((await cluster.kubectl(['create', 'namespace', NAMESPACE])).code).toBe(0);
    await eventually(cluster, ['get', 'gatewayconfigs,routingmodels', '-n', NAMESPACE]);
  }, TIMEOUT);

  afterAll(async () => {
    await cluster?.stop();
  }, TIMEOUT);

  it.each(cases.map((c, i) => [`${c.kind}: ${c.name}`, c, i] as const))(
    '%s',
    async (_title, c, i) => {
      const result = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(manifest(c, i, NAMESPACE)) });
      if (c.error === undefined) {
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
      } else {
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(c.error);
      }
    },
    TIMEOUT,
  );

  it('explains spec.models from the field docs', async () => {
    const text = await eventually(cluster, ['explain', 'gatewayconfig.spec.models']);
    expect(text).toContain('Model aliases served by the gateway');
    expect(text).toMatch(/deployments\s+<\[\]Object> -required-/);
    expect(text).toContain('Upstreams that can serve this alias');
    const artifact = await eventually(cluster, ['explain', 'rm.spec.artifact']);
    expect(artifact).toContain('exactly one of inline, configMapRef, or uri with sha256');
  }, TIMEOUT);

  it('lists both kinds by short name and category with their printer columns', async () => {
    const [valid] = cases.filter((c) => c.kind === 'GatewayConfig' && c.error === undefined);
    const create = await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...manifest(valid!, 0, NAMESPACE), metadata: { name: 'edge', namespace: NAMESPACE } }) });
    expect(create).toMatchObject({ code: 0, stdout: 'gatewayconfig.switchboard.dev/edge created\n' });
    const gwc = await cluster.kubectl(['get', 'gwc', '-n', NAMESPACE]);
    expect(gwc.stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+REASON\s+STRATEGY\s+CURRENT\s+REPLICAS\s+AGE$/);
    expect(gwc.stdout).toMatch(/edge\s+weighted/);
    const all = await cluster.kubectl(['get', 'switchboard', '-n', NAMESPACE, '-o', 'name']);
    expect(all.stdout).toBe('gatewayconfig.switchboard.dev/edge\n');
    const rm = await cluster.kubectl(['get', 'rm', '-n', NAMESPACE]);
    expect(rm).toMatchObject({ code: 0 });
    expect(rm.stderr).toBe(`No resources found in ${NAMESPACE} namespace.\n`);
  }, TIMEOUT);

  it('fills documented defaults on create', async () => {
    const get = await cluster.kubectl(['get', 'gwc', 'edge', '-n', NAMESPACE, '-o', 'json']);
    const spec = (JSON.parse(get.stdout) as { spec: Record<string, unknown> }).spec;
    expect(spec).toMatchObject({
      routing: { strategy: 'weighted' },
      timeouts: { connect: '5s', firstByte: '60s', total: '600s' },
      workload: { replicas: 2 },
      shutdown: { drainDelay: '5s', maxStreamDuration: '300s' },
    });
  }, TIMEOUT);
});
