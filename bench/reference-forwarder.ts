// The baseline the gateway is measured against: the least an LLM proxy on node:http + undici
// does (read and parse the JSON body, forward it, relay the answer chunk by chunk), nothing more.
// usage: node bench/reference-forwarder.ts --port N --upstream http://127.0.0.1:M
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });
const upstream = values.upstream ?? 'http://127.0.0.1:4010';
const dispatcher = new Agent({ keepAliveTimeout: 30_000, pipelining: 1 });

createServer((req, res) => {
  if (req.url === '/healthz') return void res.end('ok\n');
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    request(upstream + req.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), dispatcher })
      .then(async (answer) => {
        res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type']) });
        res.flushHeaders();
        await pipeline(answer.body, res);
      })
      .catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  });
}).listen(Number(values.port ?? 8081), '127.0.0.1');
