// Wires a running gateway: config source, live deployment health, API and admin servers.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { FileConfigSource, type ConfigSource, type FileSourceHooks } from './config/file-source.js';
import type { KubeSourceOptions } from './config/kube-source.js';
import { createAdminServer } from './http/admin-server.js';
import { createApiServer } from './http/api-server.js';
import { closeAgents } from './pipeline/upstream.js';
import { HealthRegistry } from './routing/health.js';
import { GatewayMetrics } from './telemetry/metrics.js';

export interface GatewayOptions {
  /** File source: a YAML or JSON runtime config. Exactly one of configPath and configMap. */
  configPath?: string;
  /** Kubernetes source: watch this ConfigMap (and the Secrets it references) through the API. */
  configMap?: Omit<KubeSourceOptions, 'env' | 'log'>;
  port: number;
  adminPort: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

export interface RunningGateway {
  url: string;
  adminUrl: string;
  config: ConfigSource;
  metrics: GatewayMetrics;
  /** Stops accepting, lets in-flight requests finish (up to `drainMs`), then closes. */
  close(drainMs?: number): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  // Asynchronous log writes keep the access log off the request path; pino flushes on exit.
  const log = options.log ?? pino({ base: undefined }, pino.destination({ dest: 1, sync: false }));
  const metrics = new GatewayMetrics();
  const health = new HealthRegistry();
  const hooks: FileSourceHooks = {
    onReload(result, state, error) {
      metrics.reloads.inc({ result });
      if (result === 'rejected') log.error({ configHash: state.hash, error }, 'config update rejected; keeping the last good config');
      else if (result === 'applied') {
        health.retain(new Set([...state.models.values()].flatMap((m) => m.deployments.map((d) => d.name))));
        log.info({ configHash: state.hash }, 'config applied');
      }
    },
  };
  const env = options.env ?? process.env;
  let config: ConfigSource;
  if (options.configMap) {
    // Loaded on demand: the Kubernetes client is only needed by the Kubernetes source.
    const { KubeConfigSource } = await import('./config/kube-source.js');
    config = await KubeConfigSource.start({ ...options.configMap, env, log }, hooks);
  } else if (options.configPath !== undefined) {
    config = await FileConfigSource.start(options.configPath, { env }, hooks);
  } else {
    throw new Error('startGateway: pass configPath or configMap');
  }
  let accepting = true;
  const api = createApiServer({ config, metrics, log, health, random: Math.random, now: Date.now });
  const admin = createAdminServer({ config, metrics, ready: () => accepting });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(api, options.port, host);
  const adminPort = await listen(admin, options.adminPort, host);
  log.info({ port, adminPort, configHash: config.current().hash }, 'gateway listening');

  return {
    url: `http://${host}:${port}`,
    adminUrl: `http://${host}:${adminPort}`,
    config,
    metrics,
    async close(drainMs = 10_000) {
      accepting = false;
      config.close();
      const closed = new Promise<void>((resolve) => api.close(() => resolve()));
      api.closeIdleConnections();
      const timer = setTimeout(() => api.closeAllConnections(), drainMs);
      await closed;
      clearTimeout(timer);
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      await closeAgents();
    },
  };
}
