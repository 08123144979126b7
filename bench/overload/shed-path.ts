// `node bench/overload/shed-path.ts`: what answering a shed costs inside one process, as the
// gateway did it before (a GatewayError thrown from the async handler, caught, its body rendered
// with JSON.stringify per request) and as it does now (a body prebuilt per wire format and
// reason, returned without an exception), against a bare `res.end()` reference; each variant is
// a real node:http server on loopback driven by a closed-loop undici pool in the same process,
// in alternating rounds. Prints requests/s per variant and the ratios to the reference.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { refusalBody } from '../../dataplane/dist/admission/refusal.js';
import { GatewayError, errorBody } from '../../dataplane/dist/http/errors.js';
import { median } from '../lib/stats.ts';

const CONNECTIONS = 32;
const ROUND_MS = 2000;
const ROUNDS = 4;
const body = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'Say hello.' }] });

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const reference: Handler = (req, res) => {
  res.writeHead(503, { 'content-length': 0 });
  res.end();
  req.resume();
};

async function thrown(): Promise<never> {
  throw new GatewayError(503, 'overloaded_error', 'The gateway is over capacity (queue full); retry after the Retry-After delay.', null, 'gateway_overloaded', 1);
}

const before: Handler = (req, res) => {
  void thrown().catch((error: unknown) => {
    const e = error as GatewayError;
    const text = errorBody(e, 'openai');
    res.writeHead(e.status, { 'x-request-id': 'r', 'retry-after': String(e.retryAfter), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
};

const now: Handler = (req, res) => {
  const text = refusalBody('queue_full', 'openai');
  res.writeHead(503, { 'x-request-id': 'r', 'retry-after': '1', 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  req.resume();
};

async function listen(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer({ keepAliveTimeout: 65_000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function closedLoop(url: string): Promise<number> {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  let done = 0;
  const end = performance.now() + ROUND_MS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.arrayBuffer();
        done++;
      }
    }),
  );
  await pool.close();
  return (done * 1000) / ROUND_MS;
}

const variants = { reference, before, now };
const servers = await Promise.all(Object.entries(variants).map(async ([name, handler]) => ({ name, ...(await listen(handler)) })));
const rps: Record<string, number[]> = { reference: [], before: [], now: [] };
for (const s of servers) await closedLoop(s.url); // warm-up
for (let round = 0; round < ROUNDS; round++) for (const s of servers) rps[s.name]!.push(await closedLoop(s.url));
for (const s of servers) s.server.close();
const ref = median(rps.reference!);
for (const [name, values] of Object.entries(rps)) {
  process.stdout.write(`${name.padEnd(9)} median ${median(values).toFixed(0)} req/s (${values.map((v) => v.toFixed(0)).join(', ')}), ${(median(values) / ref).toFixed(3)} of the reference\n`);
}
