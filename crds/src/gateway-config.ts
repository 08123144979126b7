// The GatewayConfig custom resource: one gateway's models, routing, resilience, security,
// telemetry and data-plane workload. Shapes shared with the runtime config are reused from it;
// credentials are narrowed to Secret key references (a custom resource never carries a key, an
// environment variable name or a path on some node).
import { z } from 'zod';
import { customResourceDefinition, listMap, listSet, withRules, type CrdDefinition } from './crd.js';
import { Conditions, GROUP, LocalObjectReference, ObjectName, VERSION } from './group.js';
import { BalancingStrategy, ClientAdmission, ClientKey, Cooldown, Deployment, Duration, HttpUrl, Model, PriorityLevel, Retries, RuntimeShedding, RuntimeTracing, Server, Timeouts, durationMs } from './runtime-config.js';

/** A model alias or deployment name (bounded so CEL comparisons have a known cost). */
const Name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - (starting with a letter or digit)');


export const SecretKeySelector = z
  .strictObject({
    name: ObjectName.describe('Name of the Secret, in the GatewayConfig namespace.'),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, 'a Secret key (letters, digits, "-", "_" and ".")')
      .describe('Key within the Secret.'),
  })
  .describe('A key of a Secret in the GatewayConfig namespace.');

export const SecretCredential = z
  .strictObject({ secretKeyRef: SecretKeySelector })
  .describe('Where a credential is: always a key of a Secret. The value never appears in the resource, the rendered ConfigMap or the logs.');

export const GatewayDeployment = withRules(
  z.strictObject({
    name: Name.describe('Unique name of this deployment across all models (reported in x-switchboard-deployment).'),
    provider: Deployment.shape.provider,
    model: Deployment.shape.model.max(256),
    baseUrl: HttpUrl.describe('Base URL of the upstream API, e.g. https://api.openai.com/v1.'),
    apiVersion: Deployment.shape.apiVersion.unwrap().max(64).optional().describe('Azure OpenAI api-version query parameter; required for provider azure.'),
    credentials: SecretCredential.optional().describe('The upstream API key, as a Secret key reference. Omit for upstreams without authentication.'),
    weight: Deployment.shape.weight,
    limits: Deployment.shape.limits,
    pricing: Deployment.shape.pricing,
    contextWindow: Deployment.shape.contextWindow,
    headers: Deployment.shape.headers,
  }),
  [
    {
      rule: "self.provider != 'azure' || has(self.apiVersion)",
      message: 'apiVersion is required for provider azure',
      path: ['apiVersion'],
      holds: (d) => d.provider !== 'azure' || d.apiVersion !== undefined,
    },
  ],
).describe('One upstream serving a model.');

export const GatewayModel = withRules(
  z.strictObject({
    name: Name.describe('Model alias clients send in the "model" field; unique within the gateway.'),
    deployments: listMap(z.array(GatewayDeployment).min(1).max(16), 'name').describe('Upstreams that can serve this alias (1 to 16, names unique).'),
    strategy: Model.shape.strategy,
    fallbacks: listSet(z.array(Name).max(8))
      .default([])
      .describe('Aliases tried in order when every deployment of this one failed; each must name another model of this gateway.'),
  }),
  [
    {
      rule: '!has(self.fallbacks) || !self.fallbacks.exists(f, f == self.name)',
      message: 'a model cannot fall back to itself',
      path: ['fallbacks'],
      holds: (m) => !m.fallbacks.includes(m.name),
    },
  ],
).describe('A model alias and the deployments behind it.');

export const GatewayRouting = z
  .strictObject({
    strategy: BalancingStrategy.default('weighted'),
    routingModelRef: LocalObjectReference.optional().describe(
      'RoutingModel (same namespace) that picks the model alias per request; without it, clients pick the alias.',
    ),
    routingModelPublicKey: z
      .strictObject({ secretKeyRef: SecretKeySelector })
      .optional()
      .describe('Ed25519 public key (PEM, in a Secret) every RoutingModel artifact of this gateway must be signed with (`switchboard router sign`); unsigned artifacts are rejected.'),
  })
  .describe('How requests are routed: to a model alias (optionally by a learned RoutingModel), then to a deployment.');

export const GatewayLimits = z
  .strictObject({ maxBodyBytes: Server.shape.maxBodyBytes })
  .describe('Request limits enforced before any upstream is called.');

export const GatewayTimeouts = withRules(Timeouts, [
  {
    rule: 'duration(self.firstByte) <= duration(self.total)',
    message: 'firstByte must not exceed total',
    path: ['firstByte'],
    holds: (t) => durationMs(t.firstByte) <= durationMs(t.total),
  },
]);

export const GatewayClientKey = z
  .strictObject({
    name: Name.describe('Name of the key holder (reported in logs and audit, never the key); unique.'),
    sha256: ClientKey.shape.sha256,
    models: listSet(z.array(z.string().min(1).max(63)).min(1).max(16))
      .default(['*'])
      .describe('Aliases this key may call; "*" allows all. Each must be "*" or a model of this gateway.'),
  })
  .describe('A client API key, stored only as its SHA-256 hash.');

export const GatewayAuth = z
  .strictObject({
    masterKey: SecretCredential.optional().describe('Key that may call every model, as a Secret key reference.'),
    clientKeys: listMap(z.array(GatewayClientKey).max(128), 'name').default([]).describe('Client keys by hash (up to 128, names unique).'),
  })
  .describe('Client authentication. Without a master key and client keys, the gateway is open.');

export const PriorityClass = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label')
      .describe('Name of the priority class (reported in metrics).'),
    clientKeys: listSet(z.array(z.string().min(1).max(63)).max(64))
      .default([])
      .describe('Client key names (spec.auth.clientKeys[].name) whose requests get this class.'),
    weight: ClientAdmission.shape.weight.describe(
      'Share of the freed concurrency slots this class gets among the classes waiting at the same priority level (weighted fair queueing; levels stay strict: critical, then standard). Unlisted keys share one class of weight 1.',
    ),
    priority: PriorityLevel.default('standard').describe(
      'Admission priority of these keys: the highest they may use (the x-switchboard-priority header can only lower it). Unlisted keys are standard.',
    ),
    requestsPerMinute: ClientAdmission.shape.requestsPerMinute.describe('Per-key quota: requests each of these keys may start per sliding minute (429 with Retry-After beyond).'),
    tokensPerMinute: ClientAdmission.shape.tokensPerMinute.describe('Per-key quota: tokens each of these keys may use per sliding minute (429 with Retry-After beyond).'),
  })
  .describe('A priority class: the admission priority and per-key quotas of the client keys it names.');

export const Shedding = withRules(
  z.strictObject({
    maxConcurrency: z.number().int().min(1).max(100_000).optional().describe('Requests in flight per replica above which new ones queue (or are shed without a queue).'),
    queue: z
      .strictObject({
        maxDepth: z.number().int().min(1).max(100_000).describe('Requests that may wait per replica; beyond it the gateway answers 503 with Retry-After.'),
        timeout: Duration.default('1s').describe('Longest a request waits in the queue before a 503 with Retry-After.'),
      })
      .optional()
      .describe('Bounded wait queue in front of maxConcurrency.'),
    priorities: listMap(z.array(PriorityClass).max(8), 'name')
      .default([])
      .describe('Priority classes of client keys; at most 8, a key in at most one (checked when the runtime config is rendered).'),
    retryAfter: RuntimeShedding.shape.retryAfter,
    tokenBudget: RuntimeShedding.shape.tokenBudget,
    defaultMaxTokens: RuntimeShedding.shape.defaultMaxTokens,
    guards: RuntimeShedding.shape.guards,
  }),
  [
    {
      rule: '!has(self.queue) || has(self.maxConcurrency)',
      message: 'queue requires maxConcurrency',
      path: ['queue'],
      holds: (s) => s.queue === undefined || s.maxConcurrency !== undefined,
    },
    {
      rule: '!has(self.guards) || !has(self.guards.heapUsed) || self.guards.heapUsed.standard >= self.guards.heapUsed.sheddable',
      message: 'guards.heapUsed.standard must be at least guards.heapUsed.sheddable',
      path: ['guards'],
      holds: (s) => !s.guards?.heapUsed || s.guards.heapUsed.standard >= s.guards.heapUsed.sheddable,
    },
    {
      rule: "!has(self.guards) || !has(self.guards.eventLoopDelay) || duration(self.guards.eventLoopDelay.standard) >= duration(self.guards.eventLoopDelay.sheddable)",
      message: 'guards.eventLoopDelay.standard must be at least guards.eventLoopDelay.sheddable',
      path: ['guards'],
      holds: (s) => !s.guards?.eventLoopDelay || durationMs(s.guards.eventLoopDelay.standard) >= durationMs(s.guards.eventLoopDelay.sheddable),
    },
  ],
).describe('Load shedding: admit, queue or reject early (429/503 with Retry-After) instead of overloading upstreams.');

export const Shutdown = withRules(
  z.strictObject({
    drainDelay: Duration.default('5s').describe('preStop sleep: how long a terminating pod keeps accepting requests while endpoints update.'),
    maxStreamDuration: Duration.default('300s').describe(
      'Longest a stream may run after shutdown starts before it is ended with a final event; sets terminationGracePeriodSeconds with drainDelay.',
    ),
  }),
  [
    {
      rule: "duration(self.maxStreamDuration) <= duration('1h') && duration(self.drainDelay) <= duration('5m')",
      message: 'maxStreamDuration must be at most 1h and drainDelay at most 5m',
      holds: (s) => durationMs(s.maxStreamDuration) <= 3_600_000 && durationMs(s.drainDelay) <= 300_000,
    },
  ],
).describe('Graceful shutdown of data-plane pods.');

export const Telemetry = z
  .strictObject({
    tracing: z
      .strictObject({
        endpoint: HttpUrl.describe('OTLP/HTTP endpoint of the trace collector, e.g. http://otel-collector:4318 (spans go to its /v1/traces).'),
        protocol: RuntimeTracing.shape.protocol,
        sampleRatio: z.number().min(0).max(1).default(0.05).describe('Share of new traces recorded, 0 to 1; parent-based: a request with a traceparent follows its parent.'),
        recordContent: RuntimeTracing.shape.recordContent,
        serviceName: RuntimeTracing.shape.serviceName,
      })
      .optional()
      .describe('OpenTelemetry tracing of the data plane (W3C trace context and baggage propagated upstream); off when omitted.'),
    metrics: z
      .strictObject({ enabled: z.boolean().default(true).describe('Serve Prometheus metrics (switchboard_*) on /metrics.') })
      .default({ enabled: true })
      .describe('Prometheus metrics.'),
  })
  .describe('Traces and metrics.');

export const KafkaSink = z
  .strictObject({
    brokers: z
      .array(
        z
          .string()
          .max(255)
          .regex(/^[A-Za-z0-9.-]+:[0-9]{1,5}$/, 'host:port')
          .describe('Bootstrap broker as host:port.'),
      )
      .min(1)
      .max(16)
      .describe('Bootstrap brokers (host:port).'),
    topic: z
      .string()
      .min(1)
      .max(249)
      .regex(/^[A-Za-z0-9._-]+$/, 'a Kafka topic name')
      .describe('Topic the audit records are produced to.'),
  })
  .describe('Apache Kafka topic.');

export const S3Sink = z
  .strictObject({
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'an S3 bucket name')
      .describe('Bucket the audit batches are written to.'),
    prefix: z.string().max(512).default('').describe('Key prefix of the objects, e.g. "audit/".'),
    endpoint: HttpUrl.optional().describe('S3 API endpoint for S3-compatible stores (MinIO, Ceph); AWS when omitted.'),
    region: z.string().max(64).optional().describe('Bucket region.'),
    credentialsSecretRef: LocalObjectReference.optional().describe(
      'Secret holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the pod identity is used when omitted.',
    ),
  })
  .describe('S3-compatible object store.');

export const AuditSink = z
  .union([z.strictObject({ kafka: KafkaSink }), z.strictObject({ s3: S3Sink })])
  .describe('Where audit records go: exactly one of kafka or s3 per entry.');

export const Audit = z
  .strictObject({
    sinks: z.array(AuditSink).max(4).default([]).describe('Audit destinations (up to 4); records are spooled locally while a sink is down.'),
  })
  .describe('Audit trail of every request (metadata and token counts, never keys).');

const Quantity = z
  .string()
  .max(64)
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, 'a Kubernetes quantity such as 500m or 1Gi');

const ResourceList = z
  .strictObject({
    cpu: Quantity.optional().describe('CPU, e.g. 500m or 2.'),
    memory: Quantity.optional().describe('Memory, e.g. 256Mi.'),
  })
  .describe('CPU and memory amounts.');

const IntOrPercent = z
  .union([z.number().int().min(0), z.string().regex(/^[0-9]{1,3}%$/, 'a percentage such as 50%')])
  .describe('A pod count or a percentage such as "50%".');

export const Autoscaling = withRules(
  z.strictObject({
    minReplicas: z.number().int().min(1).max(1000).default(1).describe('Fewest data-plane replicas.'),
    maxReplicas: z.number().int().min(1).max(1000).describe('Most data-plane replicas.'),
    targetTokensPerSecond: z.number().int().min(1).optional().describe('Scale to keep output tokens per second per replica near this value.'),
    targetInflight: z.number().int().min(1).optional().describe('Scale to keep requests in flight per replica near this value.'),
    trigger: z
      .enum(['external-push', 'prometheus'])
      .default('external-push')
      .describe('KEDA trigger: external-push (the operator\'s external scaler, no Prometheus needed) or prometheus (queries spec.workload.autoscaling.prometheus).'),
    prometheus: z
      .strictObject({
        serverAddress: z.string().min(1).max(512).describe('Prometheus base URL KEDA queries, e.g. http://prometheus.monitoring:9090.'),
        namespaceLabel: z.string().min(1).max(63).default('namespace').describe('Label that carries the pod namespace on scraped series.'),
        podLabel: z.string().min(1).max(63).default('pod').describe('Label that carries the pod name on scraped series.'),
      })
      .optional()
      .describe('Prometheus trigger settings (required when trigger is prometheus).'),
  }),
  [
    {
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'minReplicas must not exceed maxReplicas',
      path: ['minReplicas'],
      holds: (a) => a.minReplicas <= a.maxReplicas,
    },
    {
      rule: 'has(self.targetTokensPerSecond) || has(self.targetInflight)',
      message: 'set targetTokensPerSecond or targetInflight',
      holds: (a) => a.targetTokensPerSecond !== undefined || a.targetInflight !== undefined,
    },
    {
      rule: "!has(self.trigger) || self.trigger != 'prometheus' || has(self.prometheus)",
      message: 'set prometheus.serverAddress when trigger is prometheus',
      path: ['prometheus'],
      holds: (a) => a.trigger !== 'prometheus' || a.prometheus !== undefined,
    },
  ],
).describe('Autoscaling on gateway load (rendered as a KEDA ScaledObject fed by the gateway external scaler).');

export const Workload = withRules(
  z.strictObject({
    image: z.string().min(1).max(512).optional().describe('Data-plane container image; the operator default when omitted.'),
    replicas: z.number().int().min(0).max(1000).optional().describe('Fixed number of data-plane replicas. Exclusive with autoscaling.'),
    autoscaling: Autoscaling.optional(),
    resources: z
      .strictObject({ requests: ResourceList.optional(), limits: ResourceList.optional() })
      .optional()
      .describe('Compute resources of the data-plane container.'),
    podDisruptionBudget: z
      .union([z.strictObject({ minAvailable: IntOrPercent }), z.strictObject({ maxUnavailable: IntOrPercent })])
      .optional()
      .describe('PodDisruptionBudget for the data plane: exactly one of minAvailable or maxUnavailable.'),
  }),
  [
    {
      rule: 'has(self.replicas) != has(self.autoscaling)',
      message: 'exactly one of replicas or autoscaling must be set',
      holds: (w) => (w.replicas === undefined) !== (w.autoscaling === undefined),
    },
  ],
).describe('The data-plane Deployment the operator runs for this gateway.');

export const GatewayConfigSpec = withRules(
  z.strictObject({
    models: listMap(z.array(GatewayModel).min(1).max(32), 'name').describe('Model aliases served by the gateway (1 to 32, names unique).'),
    routing: GatewayRouting.default({ strategy: 'weighted' }),
    limits: GatewayLimits.default({ maxBodyBytes: 4 * 1024 * 1024 }),
    timeouts: GatewayTimeouts.default({ connect: '5s', firstByte: '60s', total: '600s' }),
    retries: Retries.default({ maxAttempts: 2, backoff: '100ms', maxRetryAfter: '5s' }),
    cooldown: Cooldown.default({ failureThreshold: 3, duration: '30s' }),
    auth: GatewayAuth.default({ clientKeys: [] }),
    shedding: Shedding.optional(),
    shutdown: Shutdown.default({ drainDelay: '5s', maxStreamDuration: '300s' }),
    telemetry: Telemetry.default({ metrics: { enabled: true } }),
    audit: Audit.optional(),
    workload: Workload.default({ replicas: 2 }),
  }),
  [
    {
      rule: 'self.models.all(m, !has(m.fallbacks) || m.fallbacks.all(f, self.models.exists(o, o.name == f)))',
      message: 'every fallback must name a model in spec.models',
      path: ['models'],
      holds: (s) => s.models.every((m) => m.fallbacks.every((f) => s.models.some((o) => o.name === f))),
    },
    {
      rule: 'self.models.all(m, m.deployments.all(d, self.models.filter(o, o.deployments.exists(e, e.name == d.name)).size() == 1))',
      message: 'deployment names must be unique across all models',
      path: ['models'],
      holds: (s) => {
        const names = s.models.flatMap((m) => m.deployments.map((d) => d.name));
        return new Set(names).size === names.length;
      },
    },
    {
      rule: "!has(self.auth) || !has(self.auth.clientKeys) || self.auth.clientKeys.all(k, !has(k.models) || k.models.all(n, n == '*' || self.models.exists(m, m.name == n)))",
      message: 'every client key model must be "*" or name a model in spec.models',
      path: ['auth'],
      holds: (s) => s.auth.clientKeys.every((k) => k.models.every((n) => n === '*' || s.models.some((m) => m.name === n))),
    },
    {
      rule: '!has(self.shedding) || !has(self.shedding.priorities) || self.shedding.priorities.all(p, !has(p.clientKeys) || p.clientKeys.all(k, has(self.auth) && has(self.auth.clientKeys) && self.auth.clientKeys.exists(c, c.name == k)))',
      message: 'every priority class client key must name a key in spec.auth.clientKeys',
      path: ['shedding'],
      holds: (s) => (s.shedding?.priorities ?? []).every((p) => p.clientKeys.every((k) => s.auth.clientKeys.some((c) => c.name === k))),
    },
  ],
).describe('Desired state of a Switchboard gateway: its models, routing, resilience, security, telemetry and data-plane workload.');

export const GatewayConfigStatus = z
  .strictObject({
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation of the spec the operator last reconciled.'),
    conditions: Conditions.optional(),
    configHash: z.string().max(128).optional().describe('Content hash of the rendered runtime config (the <name>-runtime ConfigMap).'),
    replicas: z
      .strictObject({
        total: z.number().int().min(0).describe('Data-plane replicas (gateway pods and sidecars) reporting for this gateway.'),
        current: z.number().int().min(0).describe('Replicas whose applied config hash equals configHash.'),
      })
      .optional()
      .describe('How many data-plane replicas run the current config.'),
    laggingReplicas: z
      .array(
        z
          .strictObject({
            pod: z.string().max(253).describe('Pod name.'),
            appliedHash: z.string().max(128).optional().describe('Config hash the pod reports; absent when it has not reported yet.'),
          })
          .describe('A replica not on the current config.'),
      )
      .max(32)
      .optional()
      .describe('Up to 32 replicas not yet on configHash, for troubleshooting.'),
  })
  .describe('Observed state, written by the operator.');

export type GatewayConfigSpec = z.output<typeof GatewayConfigSpec>;
export type GatewayConfigSpecInput = z.input<typeof GatewayConfigSpec>;
export type GatewayConfigStatus = z.output<typeof GatewayConfigStatus>;

export const gatewayConfigDefinition: CrdDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'GatewayConfig',
  plural: 'gatewayconfigs',
  singular: 'gatewayconfig',
  shortNames: ['gwc'],
  categories: ['switchboard'],
  description:
    'A Switchboard gateway: the operator renders it into the <name>-runtime ConfigMap and runs the data plane (Deployment, Service, PodDisruptionBudget) that serves it.',
  spec: GatewayConfigSpec,
  status: GatewayConfigStatus,
  printerColumns: [
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Ready condition.' },
    { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Reason of the Ready condition.' },
    { name: 'Strategy', type: 'string', jsonPath: '.spec.routing.strategy', description: 'Deployment balancing strategy.' },
    { name: 'Router', type: 'string', jsonPath: '.spec.routing.routingModelRef.name', description: 'RoutingModel picking the alias.', priority: 1 },
    { name: 'Current', type: 'integer', jsonPath: '.status.replicas.current', description: 'Replicas on the current config hash.' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas.total', description: 'Data-plane replicas reporting.' },
    { name: 'Hash', type: 'string', jsonPath: '.status.configHash', description: 'Current config hash.', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const gatewayConfigCrd = customResourceDefinition(gatewayConfigDefinition);
