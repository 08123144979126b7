// Wires a running gateway: config source, live deployment health, API and admin servers.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { FileConfigSource, type ConfigSource, type FileSourceHooks } from './config/file-source.js';
import type { KubeSourceOptions } from './config/kube-source.js';
import { createAdminServer } from './http/admin-server.js';
import { admissionFor, createApiServer } from './http/api-server.js';
import { compactHeap } from './lifecycle/compact-heap.js';
import { GracefulShutdown, StreamRegistry } from './lifecycle/shutdown.js';
import { closeAgents } from './pipeline/upstream.js';
import { HealthRegistry } from './routing/health.js';
import { deploymentStates } from './telemetry/deployment-states.js';
import { GatewayMetrics } from './telemetry/metrics.js';
import { startTracing, type RequestTracer } from './telemetry/tracing.js';

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
  /** A tracer to use instead of the one the config asks for (tests export to memory). */
  tracer?: RequestTracer;
  /** Collect start-up garbage before listening (the CLI does; in-process tests need not). */
  compactHeap?: boolean;
  /** A duration bucket takes a traced request's trace id as its exemplar at most this often (default 1000 ms). */
  exemplarIntervalMs?: number;
}

export interface RunningGateway {
  url: string;
  adminUrl: string;
  config: ConfigSource;
  metrics: GatewayMetrics;
  /** Stops accepting, lets in-flight requests finish (up to `drainMs`), then closes. */
  close(drainMs?: number): Promise<void>;
  /**
   * The SIGTERM sequence, timed by the config's `shutdown` section: readiness fails at once,
   * connections are accepted for `drainDelay`, then the listener closes and in-flight work drains
   * until `maxStreamDuration` (from now); streams still open then end with a final retryable
   * event. Resolves when everything is closed. A second call skips to the deadline.
   */
  shutdown(): Promise<void>;
}

/** After the deadline: time for the final events to reach clients before sockets are destroyed. */
const END_GRACE_MS = 1000;
/** While draining, connections that finished a response are closed this often. */
const IDLE_SWEEP_MS = 100;
/**
 * Connections the kernel queues before the gateway accepts them (capped by net.core.somaxconn).
 * Node's default of 511 overflows when a thousand clients connect within a second of a busy
 * event loop: the kernel then drops SYNs and clients resend them only after 1 s and 3 s.
 */
const ACCEPT_BACKLOG = 4096;

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: ACCEPT_BACKLOG }, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Log lines (one access-log line per request) gather in memory and are written by libuv's thread
 * pool once 4 KB have gathered or every 100 ms, whichever comes first; pino writes the rest on exit.
 * One write per line cost each request a thread-pool round trip: 30–75 µs of added latency at
 * concurrency 1 here (docs/benchmarks.md).
 */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 100;

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const log = options.log ?? pino({ base: undefined }, pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS }));
  const metrics = new GatewayMetrics(options.exemplarIntervalMs);
  const health = new HealthRegistry();
  const hooks: FileSourceHooks = {
    onReload(result, state, error) {
      metrics.reloads.inc({ result });
      if (result === 'rejected') log.error({ configHash: state.hash, error }, 'config update rejected; keeping the last good config');
      else if (result === 'applied') {
        void enableTracing();
        health.retain(new Set([...state.models.values()].flatMap((m) => m.deployments.map((d) => d.name))));
        log.info({ configHash: state.hash }, 'config applied');
      }
    },
  };
  const env = options.env ?? process.env;
  // Tracing starts with the first config that asks for it (or OTEL_* env); the SDK loads only then.
  let tracer: RequestTracer | undefined = options.tracer;
  let tracing: Promise<void> | undefined = options.tracer && Promise.resolve();
  const enableTracing = (): Promise<void> => {
    if (tracing !== undefined || config === undefined) return tracing ?? Promise.resolve();
    const live = { current: () => config.current().config.telemetry?.tracing };
    tracing = startTracing(live.current(), env, live).then(
      (started) => {
        tracer = started;
        if (started) log.info('tracing on');
        else tracing = undefined;
      },
      (error: unknown) => {
        log.error({ error: (error as Error).message }, 'tracing could not start; serving without it');
      },
    );
    return tracing;
  };
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
  await enableTracing();
  let accepting = true;
  const streams = new StreamRegistry();
  metrics.countStreams(() => streams.size);
  metrics.readDeployments(() => deploymentStates(config.current(), health, Date.now()));
  let sweep: NodeJS.Timeout | undefined;
  const lifecycle = new GracefulShutdown({
    stopAccepting() {
      log.info({ streams: streams.size }, 'shutdown: listener closed; draining');
      api.close(() => lifecycle.drained());
      api.closeIdleConnections();
      // Responses that began before the listener closed leave keep-alive sockets behind.
      sweep = setInterval(() => api.closeIdleConnections(), IDLE_SWEEP_MS);
    },
    endStreams() {
      log.info({ streams: streams.size }, 'shutdown: drain deadline; ending open streams');
      streams.endAll();
    },
    forceClose() {
      api.closeAllConnections();
    },
  });
  const api = createApiServer({ config, metrics, log, health, random: Math.random, now: Date.now, streams, closing: () => lifecycle.closing, admission: admissionFor(metrics, Date.now), tracer: () => tracer });
  const admin = createAdminServer({ config, metrics, ready: () => accepting && !lifecycle.shuttingDown });
  const host = options.host ?? '127.0.0.1';
  if (options.compactHeap) {
    const { durationMs, heapBeforeBytes, heapAfterBytes } = compactHeap();
    log.info({ durationMs: Math.round(durationMs), heapBeforeMb: Math.round(heapBeforeBytes / 1e6), heapAfterMb: Math.round(heapAfterBytes / 1e6) }, 'start-up garbage collected');
  }
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
      await tracer?.shutdown();
    },
    async shutdown() {
      if (lifecycle.shuttingDown) {
        lifecycle.expedite(END_GRACE_MS);
        return lifecycle.stopped;
      }
      const { drainDelayMs, maxStreamDurationMs } = config.current().shutdown;
      log.info({ drainDelayMs, maxStreamDurationMs, streams: streams.size }, 'shutdown: readiness failing; still accepting');
      await lifecycle.begin({ drainDelayMs, maxStreamDurationMs, endGraceMs: END_GRACE_MS });
      clearInterval(sweep);
      config.close();
      const adminClosed = new Promise<void>((resolve) => admin.close(() => resolve()));
      admin.closeAllConnections();
      await adminClosed;
      await closeAgents();
      await tracer?.shutdown();
      log.info('shutdown: done');
    },
  };
}
