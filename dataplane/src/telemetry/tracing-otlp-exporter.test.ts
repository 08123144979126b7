// The OTLP/HTTP protobuf poster against a real HTTP server on loopback: what it posts, how it
// resolves and failure, retries, compression, timeouts and shutdown; and the OTLP/HTTP JSON exporter's compression.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OtlpHttpPoster, type OtlpHttpTarget } from './tracing-otlp-exporter.js';
import { OTLPJsonTraceExporter } from './tracing-otlp-json.js';
import { OtlpTraceEncoder } from './tracing-otlp-protobuf.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let server: Server | undefined;

/** A collector that answers each request with the next of `answers` (the last one repeats). */
async function collector(answers: ((res: ServerResponse) => void)[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      answers[Math.min(received.length, answers.length) - 1]!(res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, received };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function spans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('switchboard');
  tracer.startSpan('POST /v1/chat/completions', { attributes: { 'switchboard.request_id': 'r-1' } }).end();
  tracer.startSpan('chat mock-model').end();
  return exporter.getFinishedSpans();
}

function target(url: string, extra: Partial<OtlpHttpTarget> = {}): OtlpHttpTarget {
  return { url, headers: {}, compression: 'none', timeoutMillis: 2000, ...extra };
}

/** Posts the batch's request; resolves to the error it failed with, or undefined. */
function postOnce(poster: OtlpHttpPoster, batch: ReadableSpan[]): Promise<Error | undefined> {
  return poster.post(new OtlpTraceEncoder().encode(batch)).then(
    () => undefined,
    (error: Error) => error,
  );
}

const ok = (res: ServerResponse): void => void res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();

describe('OtlpHttpPoster', () => {
  it('posts the batch as OTLP protobuf with the configured headers and resolves', async () => {
    const sink = await collector([ok]);
    const poster = new OtlpHttpPoster(target(sink.url, { headers: { authorization: 'Bearer t0k3n', 'x-tenant': 'a' } }));
    const batch = spans();
    expect(await postOnce(poster, batch)).toBeUndefined();
    await poster.shutdown();
    expect(sink.received).toHaveLength(1);
    const [request] = sink.received;
    expect(request).toMatchObject({ method: 'POST', url: '/v1/traces' });
    expect(request!.headers).toMatchObject({ 'content-type': 'application/x-protobuf', authorization: 'Bearer t0k3n', 'x-tenant': 'a' });
    expect(request!.body.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!))).toBe(true);
  });

  it('gzips the body when compression is gzip', async () => {
    const sink = await collector([ok]);
    const poster = new OtlpHttpPoster(target(sink.url, { compression: 'gzip' }));
    const batch = spans();
    expect(await postOnce(poster, batch)).toBeUndefined();
    await poster.shutdown();
    expect(sink.received[0]!.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(sink.received[0]!.body).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!))).toBe(true);
  });

  it('retries 503 and 429 as Retry-After says, then resolves', async () => {
    const busy = (status: number) => (res: ServerResponse): void => void res.writeHead(status, { 'retry-after': '0' }).end();
    const sink = await collector([busy(503), busy(429), ok]);
    const poster = new OtlpHttpPoster(target(sink.url));
    expect(await postOnce(poster, spans())).toBeUndefined();
    await poster.shutdown();
    expect(sink.received).toHaveLength(3);
    expect(sink.received[2]!.body.equals(sink.received[0]!.body)).toBe(true);
  });

  it('rejects naming the status, without retrying, when the collector refuses the batch', async () => {
    const sink = await collector([(res) => void res.writeHead(400).end('bad')]);
    const poster = new OtlpHttpPoster(target(sink.url));
    const error = await postOnce(poster, spans());
    await poster.shutdown();
    expect(error?.message).toBe(`OTLP export to ${sink.url}: HTTP 400`);
    expect(sink.received).toHaveLength(1);
  });

  it('gives up when the collector does not answer within the timeout', async () => {
    const sink = await collector([() => undefined]);
    const poster = new OtlpHttpPoster(target(sink.url, { timeoutMillis: 300 }));
    const started = Date.now();
    const error = await postOnce(poster, spans());
    expect(error?.message).toBe(`OTLP export to ${sink.url}: timed out after 300 ms`);
    expect(Date.now() - started).toBeLessThan(2000);
    server?.closeAllConnections();
    await poster.shutdown();
  });

  it('rejects when nothing listens', async () => {
    const sink = await collector([ok]);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const poster = new OtlpHttpPoster(target(sink.url));
    const error = await postOnce(poster, spans());
    await poster.shutdown();
    expect(error?.message).toBe(`OTLP export to ${sink.url}: ECONNREFUSED`);
  });

  it('waits for posts in flight at shutdown, then refuses new ones', async () => {
    let arrived!: (answer: () => void) => void;
    const held = new Promise<() => void>((resolve) => (arrived = resolve));
    const sink = await collector([(res) => arrived(() => ok(res))]);
    const poster = new OtlpHttpPoster(target(sink.url));
    const inFlight = postOnce(poster, spans());
    const answer = await held;
    let stopped = false;
    const stopping = poster.shutdown().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    answer();
    expect(await inFlight).toBeUndefined();
    await stopping;
    expect((await postOnce(poster, spans()))?.message).toBe('the OTLP poster is shut down');
  });
});

describe('OTLPJsonTraceExporter', () => {
  for (const compression of ['gzip', 'none'] as const) {
    it(`posts OTLP JSON, ${compression === 'gzip' ? 'gzipped' : 'uncompressed'} when compression is ${compression}`, async () => {
      const sink = await collector([(res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}')]);
      const exporter = new OTLPJsonTraceExporter(sink.url, 2000, compression);
      const result = await new Promise<ExportResult>((resolve) => exporter.export(spans(), resolve));
      await exporter.shutdown();
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      const [request] = sink.received;
      expect(request!.headers['content-encoding']).toBe(compression === 'gzip' ? 'gzip' : undefined);
      const body = compression === 'gzip' ? gunzipSync(request!.body) : request!.body;
      const names = (JSON.parse(body.toString('utf8')) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.name)));
      expect(names).toEqual(['POST /v1/chat/completions', 'chat mock-model']);
    });
  }
});
