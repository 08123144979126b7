// The gateway as the benchmarks run it: a config file with one openai-compatible deployment per
// alias and a client key (so auth is on), and chat-completion targets for the load generator.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Target } from './jobs.ts';
import type { ServerProcess } from './processes.ts';

/** Writes a runtime config routing each alias to the mock at its URL; returns the file path. */
export function writeGatewayConfig(dir: string, clientKey: string, aliases: Record<string, string>): string {
  const path = join(dir, `gateway-${Math.random().toString(36).slice(2)}.json`);
  const config = {
    models: Object.entries(aliases).map(([name, url]) => ({
      name,
      deployments: [{ name: `${name}-mock`, provider: 'openai-compatible', model: 'mock-gpt', baseUrl: `${url}/v1` }],
    })),
    auth: { clientKeys: [{ name: 'bench', sha256: createHash('sha256').update(clientKey).digest('hex') }] },
    // Stop at once when the run is over (the 5 s default outlasts the runner's SIGKILL, and a
    // killed gateway writes no --cpu-prof profile).
    shutdown: { drainDelay: '0s' },
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Seconds a gateway has spent in garbage collection (prom-client's GC histogram on its admin port, all kinds). */
export async function gcSeconds(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('switchboard_process_nodejs_gc_duration_seconds_sum')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** A chat-completions request to `server`, with the client key when given. */
export function chatTarget(name: string, server: ServerProcess, model: string, messages: unknown, stream: boolean, key?: string): Target {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  return { name, origin: server.url, path: '/v1/chat/completions', headers, body: JSON.stringify({ model, messages, stream }) };
}
