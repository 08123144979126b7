// Runs the real controllers in-process against the test control plane (test/cluster): one Manager
// without leader election, a KubeClient that records every request it makes (so tests can count
// writes and inject a racing update), and small helpers to read objects and wait for conditions.
import path from 'node:path';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { setupControllers } from '../../operator/src/controllers/index.js';
import { KubeApiError, KubeClient, Manager, type KubeObject, type RequestOptions } from '../../operator/src/runtime/index.js';

export const GENERATED_CRDS = path.join(import.meta.dirname, '..', '..', 'crds', 'generated');
export const IMAGE = 'registry.example/switchboard/gateway:test';

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A KubeClient that records its requests and lets a test run something before one of them. */
export class RecordingClient extends KubeClient {
  readonly requests: RecordedRequest[] = [];
  /** Runs (once) before the first request it returns true for. */
  private interceptors: Array<{ match: (method: Method, path: string) => boolean; run: () => Promise<void> }> = [];

  beforeNext(match: (method: Method, path: string) => boolean, run: () => Promise<void>): void {
    this.interceptors.push({ match, run });
  }

  override async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const i = this.interceptors.findIndex((x) => x.match(method, path));
    if (i >= 0) {
      const [hook] = this.interceptors.splice(i, 1);
      await hook!.run();
    }
    try {
      const result = await super.request<T>(method, path, options);
      this.requests.push({ method, path, status: 200 });
      return result;
    } catch (err) {
      this.requests.push({ method, path, status: err instanceof KubeApiError ? err.status : 0 });
      throw err;
    }
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }
}

export interface OperatorUnderTest {
  cluster: Cluster;
  client: RecordingClient;
  /** An admin client the operator does not use (for test-side reads and writes). */
  admin: KubeClient;
  manager: Manager;
  kubectl(args: string[], input?: string): Promise<string>;
  apply(...objects: object[]): Promise<void>;
  get<T extends KubeObject = KubeObject & Record<string, unknown>>(path: string): Promise<T | undefined>;
  stop(): Promise<void>;
}

export async function startOperator(): Promise<OperatorUnderTest> {
  const cluster = await startCluster();
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await cluster.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await kubectl(['apply', '-f', GENERATED_CRDS]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/gatewayconfigs.switchboard.dev', 'crd/routingmodels.switchboard.dev']);
  const client = new RecordingClient(KubeClient.fromFile(cluster.kubeconfigPath).config);
  const admin = KubeClient.fromFile(cluster.kubeconfigPath);
  const manager = new Manager({ port: 0, host: '127.0.0.1', leaderElection: false });
  setupControllers(manager, client, { dataPlaneImage: IMAGE, workers: 4 });
  await manager.start();
  return {
    cluster,
    client,
    admin,
    manager,
    kubectl,
    apply: async (...objects) => {
      // Server-side: no last-applied annotation (it would copy Secret values and cap objects at 256 KiB).
      await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    },
    get: async <T extends KubeObject>(p: string): Promise<T | undefined> => {
      try {
        return await admin.request<T>('GET', p);
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    stop: async () => {
      await manager.stop();
      await cluster.stop();
    },
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const paths = {
  gateway: (ns: string, name: string) => `/apis/switchboard.dev/v1alpha1/namespaces/${ns}/gatewayconfigs/${name}`,
  routingModel: (ns: string, name: string) => `/apis/switchboard.dev/v1alpha1/namespaces/${ns}/routingmodels/${name}`,
  configMap: (ns: string, name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`,
  secret: (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`,
  service: (ns: string, name: string) => `/api/v1/namespaces/${ns}/services/${name}`,
  serviceAccount: (ns: string, name: string) => `/api/v1/namespaces/${ns}/serviceaccounts/${name}`,
  pod: (ns: string, name: string) => `/api/v1/namespaces/${ns}/pods/${name}`,
  deployment: (ns: string, name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
  role: (ns: string, name: string) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles/${name}`,
  roleBinding: (ns: string, name: string) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/${name}`,
  pdb: (ns: string, name: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`,
};

/** A GatewayConfig with one model whose deployment takes its key from `secret`. */
export function gatewayConfig(ns: string, name: string, options: { secret?: string; weight?: number; routingModel?: string; extraSpec?: Record<string, unknown> } = {}): object {
  return {
    apiVersion: 'switchboard.dev/v1alpha1',
    kind: 'GatewayConfig',
    metadata: { name, namespace: ns },
    spec: {
      models: [
        {
          name: 'fast',
          deployments: [
            {
              name: 'openai-mini',
              provider: 'openai',
              model: 'gpt-4o-mini',
              baseUrl: 'https://api.openai.com/v1',
              weight: options.weight ?? 1,
              ...(options.secret ? { credentials: { secretKeyRef: { name: options.secret, key: 'api-key' } } } : {}),
            },
          ],
        },
      ],
      ...(options.routingModel ? { routing: { strategy: 'weighted', routingModelRef: { name: options.routingModel } } } : {}),
      workload: { replicas: 2, podDisruptionBudget: { maxUnavailable: 1 } },
      shutdown: { drainDelay: '5s', maxStreamDuration: '120s' },
      ...options.extraSpec,
    },
  };
}

export function secret(ns: string, name: string): object {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, stringData: { 'api-key': 'sk-test-not-a-real-key' } };
}

export function namespace(name: string): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface GatewayView extends KubeObject {
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    configHash?: string;
    conditions?: ConditionView[];
    replicas?: { total: number; current: number };
    laggingReplicas?: Array<{ pod: string; appliedHash?: string }>;
  };
}

export function condition(obj: { status?: { conditions?: ConditionView[] } } | undefined, type: string): ConditionView | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}
