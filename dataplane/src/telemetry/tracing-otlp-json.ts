// OTLP/HTTP with JSON bodies (protocol http/json): the protobuf exporter's transport with the
// JSON serializer, both from the OpenTelemetry exporter packages.
import { CompressionAlgorithm, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export class OTLPJsonTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements SpanExporter {
  constructor(url: string, timeoutMillis: number, compression: 'gzip' | 'none') {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({ url, timeoutMillis, compression: compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
        JsonTraceSerializer,
        'otlp_http_json_span_exporter',
        TraceExporterMetricsHelper,
        undefined,
      ),
    );
  }
}
