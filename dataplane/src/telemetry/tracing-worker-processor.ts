// A span processor that batches finished, sampled spans in compact form (the fields OTLP needs,
// in one flat array per batch) and posts each batch to the export thread
// (tracing-export-worker.ts). The event loop pays for copying a span's fields and the structured
// clone; OTLP encoding and the HTTP posts happen on the worker. docs/decisions/0010.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TraceFlags, type Context } from '@opentelemetry/api';
import { globalErrorHandler } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { CompactLink, ExportTarget, ExportWorkerData, FromExportWorker, ToExportWorker } from './tracing-export-worker.js';

export interface WorkerProcessorOptions {
  target: ExportTarget;
  resource: Resource;
  /** Spans per batch posted to the worker: small, so batches die young (no old-generation GC). */
  maxBatch: number;
  /** A batch that has not filled is posted after this long. */
  delayMillis: number;
  /** Spans per OTLP post (the worker gathers them). */
  maxExportBatch: number;
  /** An OTLP post that has not filled is sent after this long. */
  exportDelayMillis: number;
  /** Spans buffered here or in the worker; more are dropped and reported. */
  maxQueue: number;
}

/** Appends one span's OTLP fields to `batch` (the layout rebuildSpans reads, SPAN_STRIDE slots). */
export function appendCompact(batch: unknown[], span: ReadableSpan): void {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const scope = span.instrumentationScope;
  const status = span.status;
  batch.push(
    context.traceId,
    context.spanId,
    context.traceFlags,
    context.traceState?.serialize(),
    parent?.spanId,
    parent?.isRemote === true,
    scope.name,
    scope.version,
    span.name,
    span.kind,
    span.startTime,
    span.endTime,
    span.attributes,
    span.droppedAttributesCount,
    status.code,
    status.message,
    span.events,
    span.links.length === 0 ? [] : span.links.map(compactLink),
    span.droppedEventsCount,
    span.droppedLinksCount,
  );
}

function compactLink(link: ReadableSpan['links'][number]): CompactLink {
  return {
    traceId: link.context.traceId,
    spanId: link.context.spanId,
    traceFlags: link.context.traceFlags,
    ...(link.context.traceState ? { traceState: link.context.traceState.serialize() } : {}),
    ...(link.attributes ? { attributes: link.attributes } : {}),
    ...(link.droppedAttributesCount ? { droppedAttributesCount: link.droppedAttributesCount } : {}),
  };
}

/** The worker script beside this module: .js when built, .ts when run from source. */
function workerScript(): URL {
  const js = new URL('./tracing-export-worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./tracing-export-worker.ts', import.meta.url);
}

export class WorkerSpanProcessor implements SpanProcessor {
  private readonly worker: Worker;
  private batch: unknown[] = [];
  private spansInBatch = 0;
  /** Spans posted and not yet answered by the worker. */
  private posted = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 0;
  private readonly answers = new Map<number, () => void>();
  private stopped: Promise<void> | undefined;
  private dead = false;

  constructor(private readonly options: WorkerProcessorOptions) {
    const data: ExportWorkerData = {
      switchboardTraceExport: true,
      target: options.target,
      resource: options.resource.attributes,
      ...(options.resource.schemaUrl === undefined ? {} : { resourceSchemaUrl: options.resource.schemaUrl }),
      maxExportBatch: options.maxExportBatch,
      exportDelayMillis: options.exportDelayMillis,
      maxQueue: options.maxQueue,
    };
    this.worker = new Worker(workerScript(), { workerData: data });
    this.worker.unref();
    this.worker.on('message', (message: FromExportWorker) => this.answered(message));
    this.worker.on('error', (error) => {
      this.dead = true;
      globalErrorHandler(error);
      for (const done of this.answers.values()) done();
      this.answers.clear();
    });
  }

  onStart(_span: Span, _context: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || this.dead || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.posted + this.spansInBatch >= this.options.maxQueue) {
      if (this.dropped++ === 0) setTimeout(() => this.reportDropped(), 1000).unref();
      return;
    }
    appendCompact(this.batch, span);
    if (++this.spansInBatch >= this.options.maxBatch) void this.post();
    else this.timer ??= setTimeout(() => void this.post(), this.options.delayMillis).unref();
  }

  /** Posts what is buffered here and resolves once the worker has exported it. */
  forceFlush(): Promise<void> {
    void this.post();
    return this.dead ? Promise.resolve() : this.send({ type: 'flush', id: ++this.nextId });
  }

  shutdown(): Promise<void> {
    void this.post();
    this.stopped ??= (this.dead ? Promise.resolve() : this.send({ type: 'shutdown', id: ++this.nextId }))
      .then(() => this.worker.terminate())
      .then(() => undefined);
    return this.stopped;
  }

  private reportDropped(): void {
    globalErrorHandler(new Error(`${this.dropped} spans dropped: the export worker is behind`));
    this.dropped = 0;
  }

  private post(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.spansInBatch === 0 || this.dead) return Promise.resolve();
    const spans = this.batch;
    this.posted += this.spansInBatch;
    this.batch = [];
    this.spansInBatch = 0;
    return this.send({ type: 'spans', id: ++this.nextId, spans });
  }

  private send(message: ToExportWorker): Promise<void> {
    return new Promise<void>((resolve) => {
      this.answers.set(message.id, resolve);
      this.worker.postMessage(message);
    });
  }

  private answered(message: FromExportWorker): void {
    if (message.type === 'error') {
      globalErrorHandler(new Error(message.message));
      return;
    }
    this.posted -= message.spans;
    this.answers.get(message.id)?.();
    this.answers.delete(message.id);
  }
}
