// Prometheus metrics served on the admin port. Labels stay low-cardinality: model alias,
// deployment name, status class.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'switchboard_requests_total',
    help: 'Requests answered, by model alias, deployment, operation and HTTP status.',
    labelNames: ['model', 'deployment', 'operation', 'status'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'switchboard_request_duration_seconds',
    help: 'Time from request received to response end.',
    labelNames: ['model', 'operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'switchboard_tokens_total',
    help: 'Tokens processed, by model alias and direction (input, output).',
    labelNames: ['model', 'direction'],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'switchboard_in_flight_requests',
    help: 'Requests being processed.',
    registers: [this.registry],
  });
  /** Read at scrape time from the stream registry (countStreams): nothing on the relay's hot path. */
  private streamCount: () => number = () => 0;
  readonly inFlightStreams: Gauge = new Gauge({
    name: 'switchboard_in_flight_streams',
    help: 'Streamed responses being relayed (from the first byte to the end of the stream).',
    registers: [this.registry],
    collect: () => {
      this.inFlightStreams.set(this.streamCount());
    },
  });
  readonly reloads = new Counter({
    name: 'switchboard_config_reloads_total',
    help: 'Config reloads by result (applied, rejected, unchanged).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'switchboard_upstream_failures_total',
    help: 'Failed upstream tries, by deployment and reason class.',
    labelNames: ['deployment', 'reason'],
    registers: [this.registry],
  });

  readonly admissionLimit = new Gauge({
    name: 'switchboard_admission_limit',
    help: 'Current adaptive concurrency limit (requests in flight per replica).',
    registers: [this.registry],
  });
  readonly admissionQueue = new Gauge({
    name: 'switchboard_admission_queue_depth',
    help: 'Requests waiting for admission.',
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'switchboard_shed_total',
    help: 'Requests shed by admission, by reason and priority.',
    labelNames: ['reason', 'priority'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_process_' });
  }

  /** Where switchboard_in_flight_streams comes from: the open streams (StreamRegistry.size). */
  countStreams(count: () => number): void {
    this.streamCount = count;
  }
}
