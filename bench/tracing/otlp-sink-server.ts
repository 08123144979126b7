// A minimal OTLP/HTTP sink: answers every POST with an empty success and counts exports and bytes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSink {
  url: string;
  stats(): { exports: number; bytes: number };
  received(): string;
  close(): Promise<void>;
}

export async function otlpSink(port: number): Promise<OtlpSink> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ exports, bytes }));
      return;
    }
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => ({ exports, bytes }),
    received: () => `${exports} OTLP exports, ${(bytes / 1e6).toFixed(1)} MB`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
