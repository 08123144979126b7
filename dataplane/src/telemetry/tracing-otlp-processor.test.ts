// The encoding span processor: when posts leave (full batch, delay, flush), one at a time, what
// is dropped, and that what it posts is the OTLP request of exactly the spans that ended, whether
// they were encoded in a group of encodeEvery or still waited unencoded.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, TraceFlags } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, type ReadableSpan } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { EncodingSpanProcessor, type OtlpPoster } from './tracing-otlp-processor.js';
import { SpanMaker } from './tracing-span.js';

const Request = new protobuf.Root().loadSync(fileURLToPath(new URL('./tracing-otlp-trace.proto', import.meta.url)), { keepCase: true }).lookupType('ExportTraceServiceRequest');

/** Span names in a posted request. */
function names(body: Uint8Array): string[] {
  const request = Request.toObject(Request.decode(body)) as { resource_spans?: { scope_spans: { spans: { name: string }[] }[] }[] };
  return (request.resource_spans ?? []).flatMap((r) => r.scope_spans.flatMap((s) => s.spans.map((span) => span.name)));
}

/** A collector double: records each post and settles it when the test says so. */
class Collector implements OtlpPoster {
  readonly posts: { body: Uint8Array; settle(error?: Error): void }[] = [];
  shutdowns = 0;
  post(body: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.posts.push({ body, settle: (error) => (error ? reject(error) : resolve()) }));
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

function setup(options: { encodeEvery?: number; maxBatchSpans?: number; delayMs?: number; maxQueueSpans?: number } = {}): { collector: Collector; processor: EncodingSpanProcessor; end(name: string): void } {
  const collector = new Collector();
  const processor = new EncodingSpanProcessor(collector, { encodeEvery: 2, maxBatchSpans: 3, delayMs: 1000, maxQueueSpans: 100, ...options });
  const spans = new SpanMaker(new AlwaysOnSampler(), resourceFromAttributes({ 'service.name': 'test' }), { name: 'switchboard' }, processor);
  return { collector, processor, end: (name) => spans.startRoot(name, SpanKind.SERVER, ROOT_CONTEXT).recorded!.end() };
}

afterEach(() => {
  jest.useRealTimers();
});

describe('EncodingSpanProcessor', () => {
  it('posts a full batch at once, with the spans in the order they ended', () => {
    const { collector, end } = setup();
    end('a');
    end('b');
    expect(collector.posts).toHaveLength(0);
    end('c');
    expect(collector.posts).toHaveLength(1);
    expect(names(collector.posts[0]!.body)).toEqual(['a', 'b', 'c']);
  });

  it('posts a partial batch once the first waiting span is delayMs old', () => {
    jest.useFakeTimers();
    const { collector, end } = setup();
    end('a');
    jest.advanceTimersByTime(999);
    expect(collector.posts).toHaveLength(0);
    jest.advanceTimersByTime(1);
    expect(collector.posts).toHaveLength(1);
    expect(names(collector.posts[0]!.body)).toEqual(['a']);
  });

  it('keeps one post in flight: spans that end meanwhile go in the next post, and past the queue limit they are dropped', async () => {
    const { collector, processor, end } = setup({ maxQueueSpans: 4 });
    for (const name of ['a', 'b', 'c']) end(name);
    for (const name of ['d', 'e', 'f', 'g', 'h', 'i']) end(name);
    expect(collector.posts).toHaveLength(1);
    expect(processor.dropped).toBe(2);
    collector.posts[0]!.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(collector.posts).toHaveLength(2);
    expect(names(collector.posts[1]!.body)).toEqual(['d', 'e', 'f', 'g']);
  });

  it('reports a failed post to the OpenTelemetry error handler and goes on posting', async () => {
    const reported: unknown[] = [];
    setGlobalErrorHandler((error) => reported.push(error));
    const { collector, end } = setup();
    for (const name of ['a', 'b', 'c', 'd']) end(name);
    collector.posts[0]!.settle(new Error('OTLP export to http://collector: HTTP 503'));
    await new Promise((resolve) => setImmediate(resolve));
    setGlobalErrorHandler(loggingErrorHandler());
    expect(reported.map((e) => (e as Error).message)).toEqual(['OTLP export to http://collector: HTTP 503']);
    for (const name of ['e', 'f']) end(name);
    expect(collector.posts).toHaveLength(2);
    expect(names(collector.posts[1]!.body)).toEqual(['d', 'e', 'f']);
  });

  it('skips spans that are not sampled', () => {
    const { collector, processor } = setup({ maxBatchSpans: 1 });
    processor.onEnd({ spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE }) } as unknown as ReadableSpan);
    expect(collector.posts).toHaveLength(0);
  });

  it('flushes everything that waits, one post after another, and shuts the poster down once', async () => {
    const { collector, processor, end } = setup({ maxBatchSpans: 2 });
    for (const name of ['a', 'b', 'c']) end(name);
    const flushed = processor.shutdown();
    // The full batch left at once; the rest waits for it.
    expect(collector.posts).toHaveLength(1);
    collector.posts[0]!.settle();
    await new Promise((resolve) => setImmediate(resolve));
    expect(collector.posts).toHaveLength(2);
    expect(names(collector.posts[1]!.body)).toEqual(['c']);
    collector.posts[1]!.settle();
    await flushed;
    expect(collector.shutdowns).toBe(1);
  });
});
