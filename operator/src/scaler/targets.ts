// The scrape targets of a gateway: its ready data-plane pods (the Deployment's pods, not sidecars),
// listed through the API by label, each scraped on the admin port's /metrics.
import { GATEWAY_LABEL } from '../controllers/meta.js';
import { ADMIN_PORT } from '../controllers/gateway-workload.js';
import type { KubeClient } from '../runtime/index.js';
import type { ScrapeTarget, TargetLister } from './load.js';

interface PodList {
  items: Array<{ metadata?: { name?: string; deletionTimestamp?: string }; status?: { podIP?: string; conditions?: Array<{ type?: string; status?: string }> } }>;
}

export function kubeTargets(client: KubeClient, adminPort = ADMIN_PORT): TargetLister {
  return async (namespace, gateway, signal) => {
    const list = await client.request<PodList>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, {
      query: { labelSelector: `${GATEWAY_LABEL}=${gateway},app.kubernetes.io/component=gateway` },
      ...(signal ? { signal } : {}),
    });
    const targets: ScrapeTarget[] = [];
    for (const pod of list.items) {
      const ip = pod.status?.podIP;
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      if (!ip || !ready || pod.metadata?.deletionTimestamp) continue;
      const host = ip.includes(':') ? `[${ip}]` : ip;
      targets.push({ pod: pod.metadata?.name ?? ip, url: `http://${host}:${adminPort}/metrics` });
    }
    return targets;
  };
}
