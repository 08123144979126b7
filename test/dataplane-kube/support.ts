// Shared pieces of the Kubernetes config source tests: manifests for the ConfigMap, Secret and
// Pod a data-plane replica needs, and a kubectl wrapper that throws on failure.
import type { RuntimeConfigInput } from '@switchboard/crds';
import type { Cluster } from '../cluster/cluster.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { deployment, gatewayConfig } from '../support/stack.js';

export const CONFIG_KEY = 'config.json';
export const HASH_ANNOTATION = 'switchboard.dev/applied-config-hash';
export const SECRET = 'upstream-key';
export const SECRET_KEY = 'api-key';

export type Kubectl = (args: string[], input?: string) => Promise<string>;

export function kubectlOf(cluster: Cluster): Kubectl {
  return async (args, input) => {
    const r = await cluster.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
}

/** One model `live` with one deployment on the mock, keyed by a Secret. */
export function liveConfig(mock: MockServer, deploymentName: string, secret = SECRET, extra: Record<string, unknown> = {}): RuntimeConfigInput {
  return gatewayConfig([
    { name: 'live', deployments: [deployment(mock, deploymentName, 'openai', { credentials: { secretKeyRef: { name: secret, key: SECRET_KEY } }, ...extra })] },
  ]);
}

export function configMap(namespace: string, name: string, config: RuntimeConfigInput | string): string {
  const text = typeof config === 'string' ? config : `${JSON.stringify(config, null, 2)}\n`;
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { [CONFIG_KEY]: text } });
}

export function secret(namespace: string, name: string, value: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', stringData: { [SECRET_KEY]: value } });
}

/** A Pod object for the annotation to land on (no kubelet runs it). */
export function pod(namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'gateway', image: 'switchboard/dataplane:test' }] },
  });
}

export async function podAnnotation(kubectl: Kubectl, namespace: string, name: string): Promise<string | undefined> {
  const obj = JSON.parse(await kubectl(['get', 'pod', name, '-n', namespace, '-o', 'json'])) as { metadata: { annotations?: Record<string, string> } };
  return obj.metadata.annotations?.[HASH_ANNOTATION];
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
