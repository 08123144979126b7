// Starts a real Jaeger v2 (all-in-one: OTLP/HTTP receiver, memory storage, query API) on loopback
// free ports, built by scripts/jaeger/build.sh into ~/.cache/switchboard/bin/jaeger. Readiness is
// polled on the health-check extension; traces are read back through the query API.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitServing } from '../support/server-process.ts';

export const JAEGER_BIN = join(process.env.SWITCHBOARD_CACHE ?? join(homedir(), '.cache', 'switchboard'), 'bin', 'jaeger');

export function jaegerBuilt(): boolean {
  return existsSync(JAEGER_BIN);
}

/** A span as the query API returns it (/api/traces/{id}). */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

export interface Jaeger {
  /** OTLP/HTTP base endpoint (spans go to /v1/traces). */
  otlpUrl: string;
  queryUrl: string;
  /** The collector's process id (benchmarks read its CPU time). */
  pid: number;
  /** Spans the OTLP receiver accepted so far (with `metrics`). */
  acceptedSpans(): Promise<number>;
  /** The trace with this id, or undefined while Jaeger has none. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  close(): Promise<void>;
}

export interface JaegerOptions {
  /** Traces kept in memory (oldest dropped beyond). */
  maxTraces?: number;
  /** Serve the collector's own metrics (accepted spans) on a free port. */
  metrics?: boolean;
}

function telemetry(metricsPort: number | undefined): string {
  if (metricsPort === undefined) return '      level: none\n';
  return `      level: basic
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${metricsPort}
`;
}

function config(ports: { otlp: number; query: number; queryGrpc: number; health: number; metrics?: number }, maxTraces: number): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
${telemetry(ports.metrics)}    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${ports.health}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.query}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: ${maxTraces}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}


export async function startJaeger(options: JaegerOptions = {}): Promise<Jaeger> {
  if (!jaegerBuilt()) throw new Error(`${JAEGER_BIN} is missing: run scripts/jaeger/build.sh`);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-jaeger-'));
  const ports = { otlp: await freePort(), query: await freePort(), queryGrpc: await freePort(), health: await freePort(), metrics: options.metrics ? await freePort() : undefined };
  const configPath = join(dir, 'jaeger.yaml');
  await writeFile(configPath, config(ports, options.maxTraces ?? 100_000));
  const child = spawn(JAEGER_BIN, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (output = (output + t).slice(-20_000)));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (output = (output + t).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const queryUrl = `http://127.0.0.1:${ports.query}`;
  try {
    await waitServing('jaeger', `http://127.0.0.1:${ports.health}/status`, child, () => output, 30_000);
    await waitServing('jaeger', `${queryUrl}/api/services`, child, () => output, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    otlpUrl: `http://127.0.0.1:${ports.otlp}`,
    queryUrl,
    pid: child.pid!,
    async acceptedSpans() {
      if (ports.metrics === undefined) throw new Error('startJaeger: pass metrics: true');
      const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) if (line.startsWith('otelcol_receiver_accepted_spans')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    },
    async trace(traceId) {
      const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`jaeger query ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { data?: JaegerTrace[] };
      return body.data?.[0];
    },
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Tag value of a span, or undefined. */
export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}
