// Health, readiness and metrics on the admin port.
import { createServer, type Server } from 'node:http';
import type { ConfigSource } from '../config/file-source.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';

export interface AdminDeps {
  config: ConfigSource;
  metrics: GatewayMetrics;
  /** False once shutdown began: readiness fails at once. */
  ready(): boolean;
}

export function createAdminServer(deps: AdminDeps): Server {
  return createServer((req, res) => {
    const path = req.url?.split('?', 1)[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const status = deps.config.status();
      const ready = deps.ready();
      const body = JSON.stringify({ ready, configHash: status.hash, lastConfigError: status.lastError ?? null });
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(body);
    } else if (path === '/metrics') {
      // OpenMetrics (with trace-id exemplars) only for a scraper that asks for it.
      const registry = req.headers.accept?.includes('application/openmetrics-text') ? deps.metrics.openMetrics : deps.metrics.registry;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
}
