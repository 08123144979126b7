// Prometheus metrics served on the admin port. Labels stay low-cardinality: model alias,
// deployment name, operation, status, and fixed classes (route-class.ts) instead of free text.
// Every metric is listed in docs/metrics.md, generated from this registry (metrics-doc.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric, type OpenMetricsContentType } from 'prom-client';
import { ExemplarGate } from './exemplar-gate.js';

export interface DeploymentState {
  model: string;
  deployment: string;
  /** Circuit breaker open: cooling down. */
  open: boolean;
  inFlight: number;
  /** EWMA of time to first byte; undefined until the deployment first answered. */
  firstByteMs: number | undefined;
}

/** What the admission gauges read at scrape time. */
export interface AdmissionView {
  inFlight: number;
  tokensInFlight: number;
  guardLevel: number;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;
const NO_EXEMPLAR = Object.freeze({});

export class GatewayMetrics {
  readonly registry = new Registry();
  /** Moves per-request sums kept off prom-client into the counters (see exchange-metrics.ts). */
  private publish: () => void = () => {};
  readonly requests = new Counter({
    name: 'switchboard_requests_total',
    help: 'Requests answered, by model alias, deployment, operation, route class of the decision that ended the request, and HTTP status.',
    labelNames: ['model', 'deployment', 'operation', 'route', 'status'],
    registers: [this.registry],
    collect: () => this.publish(),
  });
  readonly duration = new Histogram<'model' | 'operation' | 'trace_id'>({
    name: 'switchboard_request_duration_seconds',
    help: 'Time from request received to response end.',
    labelNames: ['model', 'operation'],
    buckets: [...DURATION_BUCKETS],
    // A traced request's trace_id, shown in the OpenMetrics format (openMetrics below). prom-client
    // refuses exemplar metrics in a Prometheus-format registry at construction: registered below.
    registers: [],
    enableExemplars: true,
  });
  readonly timeToFirstToken = new Histogram({
    name: 'switchboard_time_to_first_token_seconds',
    help: 'Streamed requests: time from request received to the first chunk relayed to the client, retries included.',
    labelNames: ['model', 'operation'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'switchboard_tokens_total',
    help: 'Tokens processed, by model alias and direction (input, output).',
    labelNames: ['model', 'direction'],
    registers: [this.registry],
    collect: () => this.publish(),
  });
  readonly cost = new Counter({
    name: 'switchboard_cost_usd_total',
    help: 'Cost in USD of answered requests, from the answering deployment\'s pricing and the upstream\'s token usage (unpriced deployments are not counted).',
    labelNames: ['model', 'deployment'],
    registers: [this.registry],
    collect: () => this.publish(),
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
  readonly routingDecisions = new Counter({
    name: 'switchboard_routing_decisions_total',
    help: 'Routing decisions, by model alias, deployment and reason class: a try picked by rule, learned, retry or fallback; a deployment passed over (cooldown-skip, limit-skip); a request shed before routing (empty model and deployment).',
    labelNames: ['model', 'deployment', 'reason'],
    registers: [this.registry],
    collect: () => this.publish(),
  });
  readonly upstreamTries = new Counter({
    name: 'switchboard_upstream_tries_total',
    help: 'Tries sent upstream, by deployment (each is one routing decision that picked it).',
    labelNames: ['deployment'],
    registers: [this.registry],
    collect: () => this.publish(),
  });
  readonly upstreamFailures = new Counter({
    name: 'switchboard_upstream_failures_total',
    help: 'Failed upstream tries, by deployment and failure class (a stream cut after it reached the client included).',
    labelNames: ['deployment', 'reason'],
    registers: [this.registry],
    collect: () => this.publish(),
  });
  /** Read at scrape time from the health registry (readDeployments): nothing on the request path. */
  private deployments: () => Iterable<DeploymentState> = () => [];
  readonly circuitOpen: Gauge = new Gauge({
    name: 'switchboard_circuit_breaker_open',
    help: 'Circuit breaker per deployment of the current config: 1 while it is cooling down (skipped by routing), 0 when closed.',
    labelNames: ['model', 'deployment'],
    registers: [this.registry],
    collect: () => {
      this.circuitOpen.reset();
      for (const d of this.deployments()) this.circuitOpen.set({ model: d.model, deployment: d.deployment }, d.open ? 1 : 0);
    },
  });
  readonly deploymentInFlight: Gauge = new Gauge({
    name: 'switchboard_deployment_in_flight_requests',
    help: 'Tries in flight to each deployment of the current config (what least-inflight balances on).',
    labelNames: ['model', 'deployment'],
    registers: [this.registry],
    collect: () => {
      this.deploymentInFlight.reset();
      for (const d of this.deployments()) this.deploymentInFlight.set({ model: d.model, deployment: d.deployment }, d.inFlight);
    },
  });
  readonly deploymentFirstByte: Gauge = new Gauge({
    name: 'switchboard_deployment_first_byte_ewma_seconds',
    help: 'Moving average (EWMA) of the time to first byte of each deployment of the current config (what lowest-latency routes on); absent until it first answered.',
    labelNames: ['model', 'deployment'],
    registers: [this.registry],
    collect: () => {
      this.deploymentFirstByte.reset();
      for (const d of this.deployments()) if (d.firstByteMs !== undefined) this.deploymentFirstByte.set({ model: d.model, deployment: d.deployment }, d.firstByteMs / 1000);
    },
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

  readonly shadowDecisions = new Counter({
    name: 'switchboard_router_shadow_decisions_total',
    help: 'Decisions of shadow routing models, by shadow model and whether it picked the alias the request was routed to.',
    labelNames: ['router', 'agree'],
    registers: [this.registry],
  });

  /** Read at scrape time from the current admission gate (watchAdmission): nothing on the request path. */
  private admissionView: () => AdmissionView | undefined = () => undefined;
  readonly admissionInFlight: Gauge = new Gauge({
    name: 'switchboard_admission_in_flight',
    help: 'Requests holding an admission slot (under the concurrency limit).',
    registers: [this.registry],
    collect: () => {
      this.admissionInFlight.set(this.admissionView()?.inFlight ?? 0);
    },
  });
  readonly tokenBudgetInUse: Gauge = new Gauge({
    name: 'switchboard_admission_token_budget_in_use',
    help: 'Tokens reserved by requests in flight (prompt estimate + max_tokens) against the per-replica token budget.',
    registers: [this.registry],
    collect: () => {
      this.tokenBudgetInUse.set(this.admissionView()?.tokensInFlight ?? 0);
    },
  });
  readonly guardLevel: Gauge = new Gauge({
    name: 'switchboard_admission_guard_level',
    help: 'Process guard state: 0 admits all, 1 sheds sheddable, 2 sheds standard too (critical always admitted).',
    registers: [this.registry],
    collect: () => {
      this.guardLevel.set(this.admissionView()?.guardLevel ?? 0);
    },
  });

  /** The same metrics in the OpenMetrics format, which carries the exemplars; served when a scraper asks for it. */
  readonly openMetrics = new Registry<OpenMetricsContentType>();

  private readonly durationExemplars: ExemplarGate;

  /** `exemplarIntervalMs`: a duration bucket takes a traced request's trace id at most this often. */
  constructor(exemplarIntervalMs = 1000) {
    this.durationExemplars = new ExemplarGate(DURATION_BUCKETS, exemplarIntervalMs);
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_process_' });
    this.registry.registerMetric(this.duration);
    this.openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    for (const metric of this.registry.getMetricsAsArray()) this.openMetrics.registerMetric(metric as unknown as Metric);
  }

  /** A request's duration; a traced one's trace id becomes its bucket's exemplar when the gate admits it. */
  observeDuration(model: string, operation: string, seconds: number, traceId: string | undefined): void {
    const exemplar = traceId !== undefined && this.durationExemplars.admit(model, operation, seconds, performance.now());
    this.duration.observe({ labels: { model, operation }, value: seconds, exemplarLabels: exemplar ? { trace_id: traceId } : NO_EXEMPLAR });
  }

  /** What runs before the request counters are read: called by each, so any scrape order works. */
  publishBeforeScrape(publish: () => void): void {
    this.publish = publish;
  }

  /** Where the per-deployment gauges come from: the current config's deployments and their health. */
  readDeployments(deployments: () => Iterable<DeploymentState>): void {
    this.deployments = deployments;
  }

  /** Where the admission gauges come from: the gate of the current config, if any. */
  watchAdmission(view: () => AdmissionView | undefined): void {
    this.admissionView = view;
  }

  /** Where switchboard_in_flight_streams comes from: the open streams (StreamRegistry.size). */
  countStreams(count: () => number): void {
    this.streamCount = count;
  }
}
