// End-to-end check of the local control plane harness: a real etcd and kube-apiserver (built by
// scripts/cluster/build.sh) driven by the real kubectl 1.34 (scripts/cluster/tools.sh).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { startCluster, type Cluster } from './cluster.js';

const TIMEOUT = 120_000;

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const configMap = (value: string): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: harness-check
  namespace: sb-cluster-e2e
data:
  greeting: ${JSON.stringify(value)}
`;

describe('local control plane (etcd + kube-apiserver + kubectl)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
  }, TIMEOUT);

  afterAll(async () => {
    await cluster?.stop();
  }, TIMEOUT);

  it('serves the real Kubernetes 1.34 API to the real kubectl', async () => {
    const version = await cluster.kubectl(['version', '-o', 'json']);
    expect(version.stderr).toBe('');
    expect(version.code).toBe(0);
    const v = JSON.parse(version.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(v.clientVersion.gitVersion).toMatch(/^v1\.34\./);
    expect(v.serverVersion.gitVersion).toMatch(/^v1\.34\./);

    const ns = await cluster.kubectl(['create', 'namespace', 'sb-cluster-e2e']);
    expect(ns).toMatchObject({ code: 0, stdout: 'namespace/sb-cluster-e2e created\n' });

    const apply = await cluster.kubectl(['apply', '-f', '-'], { input: configMap('hello') });
    expect(apply).toMatchObject({ code: 0, stdout: 'configmap/harness-check created\n' });

    const get = await cluster.kubectl(['get', 'configmap', 'harness-check', '-n', 'sb-cluster-e2e', '-o', 'json']);
    expect(get.code).toBe(0);
    const cm = JSON.parse(get.stdout) as { data: Record<string, string>; metadata: { uid: string } };
    expect(cm.data).toEqual({ greeting: 'hello' });
    expect(cm.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  }, TIMEOUT);

  it('enforces RBAC: a user without bindings is forbidden, the admin is not', async () => {
    const kc = await cluster.createUser('nobody', ['sb-testers']);
    const denied = await cluster.kubectl(['get', 'configmap', 'harness-check', '-n', 'sb-cluster-e2e'], { kubeconfig: kc });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('forbidden');
    expect(denied.stderr).toContain('User "nobody"');

    const can = await cluster.kubectl(['auth', 'can-i', 'get', 'configmaps', '-n', 'sb-cluster-e2e']);
    expect(can).toMatchObject({ code: 0, stdout: 'yes\n' });
  }, TIMEOUT);

  it('keeps its data across an apiserver restart (etcd keeps running)', async () => {
    const before = cluster.pids();
    expect(alive(before.apiserver)).toBe(true);
    expect(alive(before.etcd)).toBe(true);

    await cluster.stopApiserver();
    expect(alive(before.apiserver)).toBe(false);
    expect(cluster.pids().apiserver).toBeUndefined();
    const down = await cluster.kubectl(['get', 'namespaces', '--request-timeout=5s']);
    expect(down.code).not.toBe(0);
    expect(down.stderr).toMatch(/connection to the server 127\.0\.0\.1:\d+ was refused/);

    await cluster.startApiserver();
    const after = cluster.pids();
    expect(after.apiserver).not.toBe(before.apiserver);
    expect(after.etcd).toBe(before.etcd);

    const get = await cluster.kubectl(['get', 'configmap', 'harness-check', '-n', 'sb-cluster-e2e', '-o', 'jsonpath={.data.greeting}']);
    expect(get).toMatchObject({ code: 0, stdout: 'hello' });

    await cluster.restartApiserver();
    const third = cluster.pids();
    expect(third.apiserver).not.toBe(after.apiserver);
    expect(alive(after.apiserver)).toBe(false);
    expect(third.etcd).toBe(before.etcd);

    const update = await cluster.kubectl(['apply', '-f', '-'], { input: configMap('hello again') });
    expect(update).toMatchObject({ code: 0, stdout: 'configmap/harness-check configured\n' });
    const get2 = await cluster.kubectl(['get', 'configmap', 'harness-check', '-n', 'sb-cluster-e2e', '-o', 'jsonpath={.data.greeting}']);
    expect(get2).toMatchObject({ code: 0, stdout: 'hello again' });
  }, TIMEOUT);

  it('stop() ends both processes and removes the work directory', async () => {
    const pids = cluster.pids();
    expect(existsSync(cluster.workDir)).toBe(true);
    await cluster.stop();
    expect(alive(pids.apiserver)).toBe(false);
    expect(alive(pids.etcd)).toBe(false);
    expect(existsSync(cluster.workDir)).toBe(false);
    await expect(cluster.startApiserver()).rejects.toThrow('cluster is stopped');
  }, TIMEOUT);
});
