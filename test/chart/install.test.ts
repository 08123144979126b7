// The chart on a real kube-apiserver: `helm template` output is accepted (server dry run, then
// for real), `helm install` creates every object, and the operator process from the repo, with
// exactly the chart's ServiceAccount's permissions and the Deployment's arguments, reconciles
// deploy/examples/gatewayconfig.yaml. Finally `helm uninstall` keeps the CRDs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import {
  buildOperator,
  condition,
  CONFIG_HASH,
  getJson,
  killAllOperators,
  kubectlOk,
  startOperator,
  waitFor,
  type ConfigMapJson,
  type GatewayConfigJson,
  type OperatorProcess,
} from '../operator-e2e/operator-process.ts';
import { chartDir, helm, repoRoot, sets, type DeploymentShape } from './helm.ts';

const TIMEOUT = 180_000;
const RELEASE = 'switchboard';
const NS = 'switchboard-system';
const SA = `system:serviceaccount:${NS}:${RELEASE}`;
const DEMO = 'demo';
const CRDS = ['crd/gatewayconfigs.switchboard.dev', 'crd/routingmodels.switchboard.dev'];

/** Every verb the operator uses (docs/operator.md), as `kubectl auth can-i` arguments. */
type Access = [verb: string, resource: string, namespace: string, subresource?: string];
const OPERATOR_NEEDS: Access[] = [
  ...['get', 'list', 'watch'].flatMap((v) => [[v, 'gatewayconfigs.switchboard.dev', DEMO], [v, 'routingmodels.switchboard.dev', DEMO]] as Access[]),
  ['update', 'gatewayconfigs.switchboard.dev', DEMO, 'status'],
  ['update', 'routingmodels.switchboard.dev', DEMO, 'status'],
  ['update', 'gatewayconfigs.switchboard.dev', DEMO, 'finalizers'],
  ['update', 'routingmodels.switchboard.dev', DEMO, 'finalizers'],
  ...['configmaps', 'services', 'serviceaccounts', 'deployments.apps', 'poddisruptionbudgets.policy', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io'].flatMap((r) =>
    ['get', 'list', 'watch', 'create', 'patch', 'delete'].map((v) => [v, r, DEMO] as Access),
  ),
  ['get', 'secrets', DEMO],
  ['list', 'secrets', DEMO],
  ['watch', 'secrets', DEMO],
  ['list', 'pods', DEMO],
  ['watch', 'pods', DEMO],
  ['patch', 'pods', DEMO],
  ['create', 'leases.coordination.k8s.io', NS],
  ['get', `leases.coordination.k8s.io/${RELEASE}`, NS],
  ['update', `leases.coordination.k8s.io/${RELEASE}`, NS],
];

/** What least privilege leaves out. */
const OPERATOR_MUST_NOT: Access[] = [
  ['create', 'secrets', DEMO],
  ['delete', 'secrets', DEMO],
  ['update', 'secrets', DEMO],
  ['delete', 'pods', DEMO],
  ['create', 'pods', DEMO],
  ['update', 'gatewayconfigs.switchboard.dev', DEMO],
  ['delete', 'gatewayconfigs.switchboard.dev', DEMO],
  ['patch', 'secrets', DEMO, 'status'],
  ['create', 'clusterroles.rbac.authorization.k8s.io', ''],
  ['escalate', 'roles.rbac.authorization.k8s.io', DEMO],
  ['bind', 'roles.rbac.authorization.k8s.io', DEMO],
  ['update', 'leases.coordination.k8s.io/someone-else', NS],
  ['get', 'leases.coordination.k8s.io', 'kube-system'],
  ['create', 'customresourcedefinitions.apiextensions.k8s.io', ''],
];

describe('the switchboard chart on a real kube-apiserver', () => {
  let cluster: Cluster;
  let env: NodeJS.ProcessEnv;
  let operator: OperatorProcess | undefined;

  const canI = async ([verb, resource, namespace, subresource]: Access): Promise<boolean> => {
    const result = await cluster.kubectl([
      'auth', 'can-i', verb, resource, '--as', SA,
      ...(namespace ? ['-n', namespace] : []),
      ...(subresource ? ['--subresource', subresource] : []),
    ]);
    return result.stdout.trim() === 'yes';
  };
  // ScaledObjects without KEDA's CRD: `kubectl auth can-i` cannot resolve the group without
  // discovery (it asks about resource "scaledobjects.keda.sh" in the core group), so ask the
  // apiserver's RBAC with a SubjectAccessReview naming the group.
  const scaledObjectVerbs = async (user: string): Promise<string[]> => {
    const allowed: string[] = [];
    for (const verb of ['get', 'list', 'watch', 'create', 'patch', 'delete']) {
      const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, resourceAttributes: { group: 'keda.sh', resource: 'scaledobjects', verb, namespace: DEMO } } };
      const result = await cluster.kubectl(['create', '-o', 'jsonpath={.status.allowed}', '-f', '-'], { input: JSON.stringify(review) });
      expect(result.stderr).toBe('');
      if (result.stdout.trim() === 'true') allowed.push(verb);
    }
    return allowed;
  };
  const describeAccess = ([verb, resource, namespace, subresource]: Access): string =>
    `${verb} ${resource}${subresource ? `/${subresource}` : ''}${namespace ? ` -n ${namespace}` : ''}`;

  beforeAll(async () => {
    await buildOperator();
    cluster = await startCluster();
    env = { KUBECONFIG: cluster.kubeconfigPath };
  }, TIMEOUT);

  afterAll(async () => {
    killAllOperators();
    await cluster?.stop();
  }, TIMEOUT);

  it('applies the helm template output: a server-side dry run of everything, then for real', async () => {
    const all = await helm(['template', 'tmpl', chartDir, '--namespace', 'sb-template', ...sets({ 'podDisruptionBudget.maxUnavailable': '', 'podDisruptionBudget.minAvailable': '50%' })]);
    expect(all.code).toBe(0);
    await kubectlOk(cluster, ['create', 'namespace', 'sb-template']);
    const dryRun = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: all.stdout });
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('deployment.apps/tmpl-switchboard created (server dry run)');
    expect(dryRun.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/gatewayconfigs.switchboard.dev created (server dry run)');

    // For real without the CRDs, which `helm install` below must own.
    const noCrds = await helm(['template', 'tmpl', chartDir, '--namespace', 'sb-template', '--skip-tests', ...sets({ 'crds.install': false })]);
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: noCrds.stdout });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const deployment = await getJson<DeploymentShape>(cluster, ['deployment', 'tmpl-switchboard', '-n', 'sb-template']);
    expect(deployment?.spec.template.spec.containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    await kubectlOk(cluster, ['delete', '-f', '-', '--wait=false'], noCrds.stdout);
  }, TIMEOUT);

  it('rejects an unknown value at helm install, naming it, and installs nothing', async () => {
    const result = await helm(['install', 'typo', chartDir, '--namespace', 'typo', '--create-namespace', '--set', 'serviceAccount.nmae=x'], { env });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("at '/serviceAccount': additional properties 'nmae' not allowed");
    const list = await helm(['list', '--all-namespaces', '--short'], { env });
    expect(list.stdout).not.toContain('typo');
  }, TIMEOUT);

  it('helm install creates the operator Deployment, ServiceAccount, RBAC, Service, PDB and established CRDs', async () => {
    const result = await helm(['install', RELEASE, chartDir, '--namespace', NS, '--create-namespace', '--set', 'replicaCount=2'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`kubectl -n ${NS} rollout status deployment/${RELEASE}`);
    await kubectlOk(cluster, ['wait', '--for=condition=Established', '--timeout=60s', ...CRDS]);
    for (const object of [
      ['deployment', RELEASE, '-n', NS],
      ['serviceaccount', RELEASE, '-n', NS],
      ['service', RELEASE, '-n', NS],
      ['poddisruptionbudget', RELEASE, '-n', NS],
      ['role', `${RELEASE}-leader-election`, '-n', NS],
      ['rolebinding', `${RELEASE}-leader-election`, '-n', NS],
      ['clusterrole', RELEASE],
      ['clusterrolebinding', RELEASE],
    ]) {
      expect(await getJson(cluster, object)).toBeDefined();
    }
    const crd = await getJson<{ metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } }>(cluster, [CRDS[0]!]);
    expect(crd?.metadata.annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep', 'meta.helm.sh/release-name': RELEASE });
    const deployment = (await getJson<DeploymentShape>(cluster, ['deployment', RELEASE, '-n', NS]))!;
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.serviceAccountName).toBe(RELEASE);
    expect(deployment.spec.template.spec.containers[0]!.args).toContain('--leader-elect=true');
  }, TIMEOUT);

  it('grants the operator ServiceAccount every verb the operator uses, and nothing it does not', async () => {
    const missing: string[] = [];
    for (const access of OPERATOR_NEEDS) if (!(await canI(access))) missing.push(describeAccess(access));
    expect(missing).toEqual([]);
    const excess: string[] = [];
    for (const access of OPERATOR_MUST_NOT) if (await canI(access)) excess.push(describeAccess(access));
    expect(excess).toEqual([]);
  }, TIMEOUT);

  it('with keda.enabled, grants the operator ScaledObjects too and exposes the external scaler on its Service', async () => {
    // A second release (the CRDs stay owned by the first): RBAC and the Service only matter here.
    const ns = 'sb-keda';
    const result = await helm(['install', 'scaled', chartDir, '--namespace', ns, '--create-namespace', ...sets({ 'keda.enabled': true, 'crds.install': false, 'helmTest.enabled': false })], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await scaledObjectVerbs(`system:serviceaccount:${ns}:scaled-switchboard`)).toEqual(['get', 'list', 'watch', 'create', 'patch', 'delete']);
    // The first release, without keda.enabled, may not touch them.
    expect(await scaledObjectVerbs(SA)).toEqual([]);
    const service = await getJson<{ spec: { ports: Array<{ name: string; port: number }> } }>(cluster, ['service', 'scaled-switchboard', '-n', ns]);
    expect(service?.spec.ports).toContainEqual(expect.objectContaining({ name: 'grpc-scaler', port: 9443 }));
    expect((await helm(['uninstall', 'scaled', '--namespace', ns], { env })).code).toBe(0);
  }, TIMEOUT);

  it('the operator, as the chart ServiceAccount with the Deployment arguments, reconciles the example GatewayConfig', async () => {
    // Authenticate as the ServiceAccount itself: a TokenRequest token when the apiserver issues
    // one, else a client certificate with the ServiceAccount's user name and groups (RBAC sees
    // the same subject either way).
    const token = await cluster.kubectl(['create', 'token', RELEASE, '-n', NS, '--duration=1h']);
    let kubeconfig: string;
    if (token.code === 0 && token.stdout.trim()) {
      kubeconfig = path.join(cluster.workDir, 'operator-sa.kubeconfig');
      await writeFile(kubeconfig, saKubeconfig(cluster.server, cluster.caFile, token.stdout.trim()), { mode: 0o600 });
    } else {
      console.log(`TokenRequest failed (${token.stderr.trim()}); operator authenticates with a client certificate as ${SA}`);
      kubeconfig = await cluster.createUser(SA, ['system:serviceaccounts', `system:serviceaccounts:${NS}`]);
    }
    const whoami = await cluster.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}', '--kubeconfig', kubeconfig]);
    expect(whoami.stdout).toBe(SA);

    const deployment = (await getJson<DeploymentShape>(cluster, ['deployment', RELEASE, '-n', NS]))!;
    const chartArgs = deployment.spec.template.spec.containers[0]!.args.filter((a) => !/^--metrics-(port|bind-address)=/.test(a));
    operator = await startOperator({ kubeconfig, identity: 'chart-sa', args: chartArgs });

    await kubectlOk(cluster, ['create', 'namespace', DEMO]);
    const example = readFileSync(path.join(repoRoot, 'deploy', 'examples', 'gatewayconfig.yaml'), 'utf8');
    await kubectlOk(cluster, ['apply', '-n', DEMO, '-f', '-'], example);

    const configMap = await waitFor('ConfigMap edge-runtime with a config hash', async () => {
      const cm = await getJson<ConfigMapJson>(cluster, ['configmap', 'edge-runtime', '-n', DEMO]);
      return cm?.metadata.annotations?.[CONFIG_HASH] ? cm : undefined;
    }, 30_000);
    expect(JSON.parse(configMap.data!['config.json']!)).toMatchObject({ models: [{ name: 'chat' }, { name: 'chat-small' }] });
    // The data plane's workload and RBAC (creating its Role needs the operator to hold what it grants).
    for (const kind of ['deployment', 'service', 'serviceaccount', 'role', 'rolebinding', 'poddisruptionbudget']) {
      await waitFor(`${kind} edge-gateway`, async () => (await getJson(cluster, [kind, 'edge-gateway', '-n', DEMO])) !== undefined, 30_000);
    }
    // Status written through /status: no kubelet here, so no replica is ready yet.
    const status = await waitFor('the ConfigApplied condition', async () => condition(await getJson<GatewayConfigJson>(cluster, ['gatewayconfig', 'edge', '-n', DEMO]), 'ConfigApplied'), 30_000);
    expect(status).toMatchObject({ status: 'False', reason: 'NoReadyReplicas' });
    expect((await getJson<{ spec?: { holderIdentity?: string } }>(cluster, ['lease', RELEASE, '-n', NS]))?.spec?.holderIdentity).toBe('chart-sa');
    const denied = operator.logs().filter((l) => /forbidden/i.test(JSON.stringify(l)));
    expect(denied).toEqual([]);
    await operator.stop();
  }, TIMEOUT);

  it('helm uninstall removes the operator and keeps the CRDs and the custom resources', async () => {
    const result = await helm(['uninstall', RELEASE, '--namespace', NS], { env });
    expect(result.code).toBe(0);
    expect(await getJson(cluster, ['deployment', RELEASE, '-n', NS])).toBeUndefined();
    expect(await getJson(cluster, ['clusterrole', RELEASE])).toBeUndefined();
    for (const crd of CRDS) expect(await getJson(cluster, [crd])).toBeDefined();
    expect(await getJson(cluster, ['gatewayconfig', 'edge', '-n', DEMO])).toBeDefined();
  }, TIMEOUT);
});

function saKubeconfig(server: string, caFile: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{ name: test, cluster: { server: "${server}", certificate-authority: "${caFile}" } }]`,
    `users: [{ name: operator, user: { token: "${token}" } }]`,
    'contexts: [{ name: operator, context: { cluster: test, user: operator } }]',
    'current-context: operator',
    '',
  ].join('\n');
}
