// A minimal OTLP/HTTP sink process: answers every POST /v1/traces with an empty success and
// counts the exports and bytes (GET /stats), so the tracing benchmark can measure the gateway's
// own cost without the ingest work of a real backend on the same two cores.
// usage: node bench/tracing/otlp-sink.ts PORT
import { otlpSink } from './otlp-sink-server.ts';

await otlpSink(Number(process.argv[2] ?? 4318));
