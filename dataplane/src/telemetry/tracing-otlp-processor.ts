// The gateway's span processor for OTLP/HTTP protobuf. The SDK's batch processor keeps finished
// span objects until their batch of 2,048 leaves; under load they outlive young-generation
// collections, V8 starts allocating their kind straight in the old generation, and the traced
// gateway pays for it in GC. Encoding each span the moment it ends avoids that but interleaves
// the encoder with request handling, which cost as much again. This processor does both halves:
// it encodes every `encodeEvery` ended spans together (they die young, the encoder runs hot) and
// keeps only their bytes until a post (decision 0016). Posting follows the batch processor: when
// `maxBatchSpans` wait or the oldest waiting span is `delayMs` old, one post at a time; spans that
// end while `maxQueueSpans` wait (a slow or absent collector) are dropped and counted.
import { TraceFlags } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { OtlpTraceEncoder } from './tracing-otlp-protobuf.js';

/** Where encoded requests go (OtlpHttpPoster). */
export interface OtlpPoster {
  post(encoded: Uint8Array): Promise<void>;
  shutdown(): Promise<void>;
}

export interface EncodingProcessorOptions {
  /** Ended spans are encoded this many at a time. */
  encodeEvery: number;
  /** A post leaves once this many spans wait. */
  maxBatchSpans: number;
  /** …or once the oldest waiting span is this old. */
  delayMs: number;
  /** Spans that end while this many wait are dropped. */
  maxQueueSpans: number;
}

export class EncodingSpanProcessor implements SpanProcessor {
  private readonly encoder = new OtlpTraceEncoder();
  /** Ended spans not yet encoded (fewer than encodeEvery). */
  private readonly ended: ReadableSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private posting: Promise<void> | undefined;
  /** Spans dropped because too many waited, or because they could not be encoded. */
  dropped = 0;

  constructor(
    private readonly poster: OtlpPoster,
    private readonly options: EncodingProcessorOptions,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.waiting() >= this.options.maxQueueSpans) {
      this.dropped++;
      return;
    }
    this.ended.push(span);
    if (this.ended.length >= this.options.encodeEvery) this.encodeEnded();
    if (this.waiting() >= this.options.maxBatchSpans) this.post();
    else this.schedule();
  }

  /** Posts until nothing waits. */
  async forceFlush(): Promise<void> {
    while (this.posting !== undefined || this.waiting() > 0) {
      if (this.posting === undefined) this.post();
      await this.posting;
    }
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.poster.shutdown();
  }

  private waiting(): number {
    return this.encoder.pendingSpans + this.ended.length;
  }

  private encodeEnded(): void {
    try {
      this.encoder.append(this.ended);
    } catch (error) {
      // Never on the request path: spans that cannot be encoded are lost, the request is not.
      this.dropped += this.ended.length;
      globalErrorHandler(error as Error);
    }
    this.ended.length = 0;
  }

  /** The delay timer, started by the first span that waits. */
  private schedule(): void {
    if (this.timer !== undefined || this.posting !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.post();
    }, this.options.delayMs);
    this.timer.unref();
  }

  /** Posts what waits, unless a post is in flight: the spans that wait then go when it ends. */
  private post(): void {
    if (this.posting !== undefined) return;
    if (this.ended.length > 0) this.encodeEnded();
    if (this.encoder.pendingSpans === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.posting = this.poster.post(this.encoder.takeRequest()).then(
      () => this.posted(),
      (error: Error) => {
        globalErrorHandler(error);
        this.posted();
      },
    );
  }

  private posted(): void {
    this.posting = undefined;
    if (this.waiting() >= this.options.maxBatchSpans) this.post();
    else if (this.waiting() > 0) this.schedule();
  }
}
