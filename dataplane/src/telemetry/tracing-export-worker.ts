// The OTLP export thread: receives finished spans from the event loop in compact batches
// (tracing-worker-processor.ts), rebuilds them as ReadableSpans and hands them to the same OTLP
// exporters the SDK uses, so protobuf/JSON encoding and the HTTP posts cost the event loop
// nothing. Imports packages only: it runs from dist (node) and from src (type stripping) alike.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createTraceState, type Attributes, type HrTime, type Link, type SpanContext, type SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult, type InstrumentationScope } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace';

/** Fields per span in a compact batch (a flat array, `SPAN_STRIDE` slots per span). */
export const SPAN_STRIDE = 20;

/** A link as it crosses the thread boundary (trace state serialised). */
export interface CompactLink {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  attributes?: Attributes;
  droppedAttributesCount?: number;
}

export interface ExportTarget {
  protocol: 'http/protobuf' | 'http/json';
  tracesUrl: string;
  timeoutMillis: number;
}

export interface ExportWorkerData {
  switchboardTraceExport: true;
  target: ExportTarget;
  resource: Attributes;
  resourceSchemaUrl?: string;
  /** Spans per OTLP post. */
  maxExportBatch: number;
  /** A post that has not filled is sent after this long. */
  exportDelayMillis: number;
  /** Spans buffered or being posted; more are dropped (and reported). */
  maxQueue: number;
}

/** Spans (a compact batch), or flush (post what is buffered) / shutdown, each answered by id. */
export type ToExportWorker = { type: 'spans'; id: number; spans: unknown[] } | { type: 'flush'; id: number } | { type: 'shutdown'; id: number };
/** `done` answers a message by id; `error` reports a failed post. */
export type FromExportWorker = { type: 'done'; id: number; spans: number } | { type: 'error'; message: string };

/** OTLP/HTTP with JSON bodies: the protobuf exporter's transport with the JSON serializer. */
export class OTLPJsonTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(url: string, timeoutMillis: number) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({ url, timeoutMillis }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
        JsonTraceSerializer,
        'otlp_http_json_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}

export function exporterFor(target: ExportTarget): SpanExporter {
  if (target.protocol === 'http/json') return new OTLPJsonTraceExporter(target.tracesUrl, target.timeoutMillis);
  return new OTLPTraceExporter({ url: target.tracesUrl, timeoutMillis: target.timeoutMillis });
}

const zero: HrTime = [0, 0];

/** ReadableSpans from a compact batch; every span shares `resource` and one scope object per name@version. */
export function rebuildSpans(batch: readonly unknown[], resource: Resource): ReadableSpan[] {
  const scopes = new Map<string, InstrumentationScope>();
  const spans: ReadableSpan[] = [];
  for (let i = 0; i + SPAN_STRIDE <= batch.length; i += SPAN_STRIDE) {
    const traceState = batch[i + 3] as string | undefined;
    const context: SpanContext = { traceId: batch[i] as string, spanId: batch[i + 1] as string, traceFlags: batch[i + 2] as number, ...(traceState ? { traceState: createTraceState(traceState) } : {}) };
    const parentSpanId = batch[i + 4] as string | undefined;
    const parent: SpanContext | undefined = parentSpanId ? { traceId: context.traceId, spanId: parentSpanId, traceFlags: context.traceFlags, isRemote: batch[i + 5] as boolean } : undefined;
    const scopeName = batch[i + 6] as string;
    const scopeVersion = batch[i + 7] as string | undefined;
    const scopeKey = `${scopeName}@${scopeVersion ?? ''}`;
    let scope = scopes.get(scopeKey);
    if (!scope) scopes.set(scopeKey, (scope = scopeVersion === undefined ? { name: scopeName } : { name: scopeName, version: scopeVersion }));
    const statusMessage = batch[i + 15] as string | undefined;
    spans.push({
      name: batch[i + 8] as string,
      kind: batch[i + 9] as SpanKind,
      spanContext: () => context,
      ...(parent ? { parentSpanContext: parent } : {}),
      startTime: batch[i + 10] as HrTime,
      endTime: batch[i + 11] as HrTime,
      duration: zero,
      ended: true,
      attributes: batch[i + 12] as Attributes,
      droppedAttributesCount: batch[i + 13] as number,
      status: statusMessage === undefined ? { code: batch[i + 14] as number } : { code: batch[i + 14] as number, message: statusMessage },
      events: batch[i + 16] as TimedEvent[],
      links: (batch[i + 17] as CompactLink[]).map(linkOf),
      droppedEventsCount: batch[i + 18] as number,
      droppedLinksCount: batch[i + 19] as number,
      resource,
      instrumentationScope: scope,
    });
  }
  return spans;
}

function linkOf(link: CompactLink): Link {
  return {
    context: { traceId: link.traceId, spanId: link.spanId, traceFlags: link.traceFlags, ...(link.traceState ? { traceState: createTraceState(link.traceState) } : {}) },
    ...(link.attributes ? { attributes: link.attributes } : {}),
    ...(link.droppedAttributesCount ? { droppedAttributesCount: link.droppedAttributesCount } : {}),
  };
}

function serve(data: ExportWorkerData): void {
  const port = parentPort!;
  const resource = resourceFromAttributes(data.resource, data.resourceSchemaUrl === undefined ? undefined : { schemaUrl: data.resourceSchemaUrl });
  const exporter = exporterFor(data.target);
  const reply = (message: FromExportWorker): void => port.postMessage(message);
  let buffer: ReadableSpan[] = [];
  let exporting = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  const post = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return Promise.resolve();
    const spans = buffer;
    buffer = [];
    exporting += spans.length;
    const posted = new Promise<void>((resolve) =>
      exporter.export(spans, (result: ExportResult) => {
        exporting -= spans.length;
        if (result.code !== ExportResultCode.SUCCESS) reply({ type: 'error', message: `OTLP export of ${spans.length} spans failed: ${result.error?.message ?? 'unknown error'}` });
        resolve();
      }),
    );
    inFlight.add(posted);
    void posted.then(() => inFlight.delete(posted));
    return posted;
  };
  const flush = (): Promise<void> => {
    void post();
    return Promise.all([...inFlight]).then(() => undefined);
  };

  port.on('message', (message: ToExportWorker) => {
    if (message.type === 'flush') {
      void flush().then(() => reply({ type: 'done', id: message.id, spans: 0 }));
      return;
    }
    if (message.type === 'shutdown') {
      void flush()
        .then(() => exporter.shutdown())
        .finally(() => reply({ type: 'done', id: message.id, spans: 0 }));
      return;
    }
    const spans = rebuildSpans(message.spans, resource);
    reply({ type: 'done', id: message.id, spans: spans.length });
    const room = data.maxQueue - buffer.length - exporting;
    if (room < spans.length) {
      if (dropped === 0) setTimeout(() => (reply({ type: 'error', message: `${dropped} spans dropped: the OTLP export queue was full` }), (dropped = 0)), 1000).unref();
      dropped += spans.length - Math.max(0, room);
    }
    for (let i = 0; i < Math.min(room, spans.length); i++) buffer.push(spans[i]!);
    if (buffer.length >= data.maxExportBatch) void post();
    else if (buffer.length > 0) timer ??= setTimeout(() => void post(), data.exportDelayMillis).unref();
  });
}

if (!isMainThread && (workerData as Partial<ExportWorkerData> | undefined)?.switchboardTraceExport) serve(workerData as ExportWorkerData);
