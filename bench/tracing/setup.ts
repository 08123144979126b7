// What the tracing benches share: the minimal OTLP sink in a process of its own, and a bench
// gateway config that traces every request to it (or nothing).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeGatewayConfig } from '../lib/gateway.ts';
import { freePort, repoRoot } from '../lib/processes.ts';

export interface NullSink {
  otlpUrl: string;
  /** The sink's process, whose CPU the traced rounds also cost this machine. */
  pid: number;
  /** Exports and bytes received so far. */
  stats(): Promise<{ exports: number; bytes: number }>;
  stop(): Promise<void>;
}

/** bench/tracing/otlp-sink.ts on a free port, once it answers. */
export async function startNullSink(): Promise<NullSink> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'bench/tracing/otlp-sink.ts'), String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stats = async (): Promise<{ exports: number; bytes: number }> => (await fetch(`http://127.0.0.1:${port}/stats`)).json() as Promise<{ exports: number; bytes: number }>;
  for (let i = 0; ; i++) {
    try {
      await stats();
      break;
    } catch (error) {
      if (i > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return {
    otlpUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stats,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A bench gateway config in `dir` in front of the mock, tracing every request to `otlpUrl` when given. */
export function benchGatewayConfig(dir: string, clientKey: string, mockUrl: string, otlpUrl?: string): string {
  const path = writeGatewayConfig(dir, clientKey, { bench: mockUrl });
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  // No drain delay: the benches stop their gateways with SIGTERM.
  const shutdown = { drainDelay: '0s' };
  const telemetry = otlpUrl === undefined ? {} : { telemetry: { tracing: { endpoint: otlpUrl, sampleRatio: 1, serviceName: 'bench-traced' } } };
  writeFileSync(path, JSON.stringify({ ...parsed, shutdown, ...telemetry }));
  return path;
}
