// The real `switchboard gateway --configmap` process against a real kube-apiserver, configured
// the way a pod is (KUBECONFIG, POD_NAME, POD_NAMESPACE): it serves, follows ConfigMap changes,
// annotates its Pod, fails clearly at start when a referenced Secret is missing, and rejects
// conflicting flags with a usage error.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { buildWorkspaces, runCli, startCli } from '../support/cli.js';
import { MASTER_KEY, startTestMock, waitFor } from '../support/stack.js';
import { configMap, kubectlOf, liveConfig, pod, podAnnotation, secret, SECRET, SECRET_KEY, type Kubectl } from './support.js';

const NS = 'sb-dataplane-cli';
const TIMEOUT = 180_000;

let cluster: Cluster;
let kubectl: Kubectl;
let mock: MockServer;

beforeAll(async () => {
  cluster = await startCluster();
  kubectl = kubectlOf(cluster);
  mock = await startTestMock(null);
  await kubectl(['create', 'namespace', NS]);
  await kubectl(['apply', '-f', '-'], secret(NS, SECRET, 'sk-cli'));
  // The CLI runs the compiled code: build it, so this suite never tests a stale dist/.
  await buildWorkspaces();
}, TIMEOUT);

afterAll(async () => {
  await mock?.close();
  await cluster?.stop();
}, TIMEOUT);

describe('switchboard gateway --configmap', () => {
  it('exits 2 when both --config and --configmap are given', async () => {
    const result = await runCli(['gateway', '--config', 'gateway.yaml', '--configmap', 'gw-runtime', '--namespace', NS]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--config and --configmap');
  });

  it('exits 2 without a namespace when POD_NAMESPACE is not set', async () => {
    const result = await runCli(['gateway', '--configmap', 'gw-runtime'], { POD_NAMESPACE: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--namespace: required');
  });

  it('exits 1 naming the Secret and key when the config references a Secret that does not exist', async () => {
    await kubectl(['apply', '-f', '-'], configMap(NS, 'missing-secret', liveConfig(mock, 'd', 'absent-secret')));
    const result = await runCli(['gateway', '--configmap', 'missing-secret', '--namespace', NS, '--kubeconfig', cluster.kubeconfigPath, '--port', '0', '--admin-port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Secret ${NS}/absent-secret (key ${SECRET_KEY}) does not exist`);
  }, TIMEOUT);

  it('exits 1 naming the ConfigMap when it does not exist', async () => {
    const result = await runCli(['gateway', '--configmap', 'nowhere', '--namespace', NS, '--kubeconfig', cluster.kubeconfigPath, '--port', '0', '--admin-port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ConfigMap ${NS}/nowhere not found`);
  }, TIMEOUT);

  it('serves as a pod would run it, follows the ConfigMap, annotates its Pod, and stops on SIGTERM', async () => {
    await kubectl(['apply', '-f', '-'], pod(NS, 'gw-cli-0'));
    await kubectl(['apply', '-f', '-'], configMap(NS, 'gw-runtime', liveConfig(mock, 'cli-first')));
    const cli = startCli(['gateway', '--configmap', 'gw-runtime', '--port', '0', '--admin-port', '0'], {
      KUBECONFIG: cluster.kubeconfigPath,
      POD_NAME: 'gw-cli-0',
      POD_NAMESPACE: NS,
      SWITCHBOARD_MASTER_KEY: MASTER_KEY,
    });
    try {
      const listening = await cli.waitForOutput(/"port":(\d+)[^\n]*"configHash":"([0-9a-f]{16})"/, 30_000);
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${listening[1]}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
      const deploymentServing = async (): Promise<string | null> =>
        (await client.chat.completions.create({ model: 'live', messages: [{ role: 'user', content: 'hi' }] }).asResponse()).headers.get('x-switchboard-deployment');
      expect(await deploymentServing()).toBe('cli-first');
      await waitFor('the pod annotation', async () => ((await podAnnotation(kubectl, NS, 'gw-cli-0')) === listening[2] ? true : undefined), 10_000);

      await kubectl(['apply', '-f', '-'], configMap(NS, 'gw-runtime', liveConfig(mock, 'cli-second')));
      await waitFor('the new config to serve', async () => ((await deploymentServing()) === 'cli-second' ? true : undefined), 5_000);
      await waitFor('the pod annotation to change', async () => {
        const hash = await podAnnotation(kubectl, NS, 'gw-cli-0');
        return hash !== listening[2] ? true : undefined;
      }, 10_000);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  }, TIMEOUT);

  it('runs with only the RBAC docs/config-sources.md lists: its ConfigMap and Secrets by name, patch on pods', async () => {
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'dataplane', namespace: NS },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['rbac-runtime'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
      ],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'dataplane', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dataplane' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dataplane' }],
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding] }));
    await kubectl(['apply', '-f', '-'], pod(NS, 'gw-rbac-0'));
    await kubectl(['apply', '-f', '-'], configMap(NS, 'rbac-runtime', liveConfig(mock, 'rbac-first')));
    const kubeconfig = await cluster.createUser('dataplane');
    const cli = startCli(['gateway', '--configmap', 'rbac-runtime', '--kubeconfig', kubeconfig, '--port', '0', '--admin-port', '0'], {
      POD_NAME: 'gw-rbac-0',
      POD_NAMESPACE: NS,
      SWITCHBOARD_MASTER_KEY: MASTER_KEY,
    });
    try {
      const listening = await cli.waitForOutput(/"port":(\d+)[^\n]*"configHash":"([0-9a-f]{16})"/, 30_000);
      await waitFor('the pod annotation', async () => ((await podAnnotation(kubectl, NS, 'gw-rbac-0')) === listening[2] ? true : undefined), 10_000);
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${listening[1]}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
      await kubectl(['apply', '-f', '-'], configMap(NS, 'rbac-runtime', liveConfig(mock, 'rbac-second')));
      await waitFor('the new config to serve', async () => {
        const res = await client.chat.completions.create({ model: 'live', messages: [{ role: 'user', content: 'hi' }] }).asResponse();
        return res.headers.get('x-switchboard-deployment') === 'rbac-second' ? true : undefined;
      }, 5_000);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  }, TIMEOUT);
});
