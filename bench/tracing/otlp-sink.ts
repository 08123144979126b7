// A minimal OTLP/HTTP sink: answers every POST /v1/traces with an empty success and counts the
// exports and bytes, so the tracing benchmark can measure the gateway's own cost without the
// ingest work of a real backend on the same two cores. usage: node bench/tracing/otlp-sink.ts PORT
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 4318);
let exports = 0;
let bytes = 0;
createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ exports, bytes }));
    return;
  }
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
}).listen(port, '127.0.0.1');
