// The data plane's runtime config: the one shape the gateway reads from a file today and the
// operator renders into the `<gateway>-runtime` ConfigMap later. Every field carries its doc
// (`.describe`) because it becomes the CRD's `kubectl explain` text.
import { z } from 'zod';

/** Kubernetes-style duration: "250ms", "5s", "1.5m", "1h". */
export const Duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration such as "250ms", "5s" or "2m"')
  .describe('Duration with a unit: ms, s, m or h (e.g. "250ms", "30s").');

const Name = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - (starting with a letter or digit)');

export const ProviderKind = z
  .enum(['openai', 'openai-compatible', 'azure', 'anthropic'])
  .describe(
    'Upstream API family. openai-compatible covers vLLM, Ollama, Groq, Together, DeepSeek, OpenRouter and other servers speaking the OpenAI wire format.',
  );

export const SecretKeyRef = z
  .strictObject({
    name: Name.describe('Name of the Secret in the gateway namespace.'),
    key: z.string().min(1).describe('Key within the Secret.'),
  })
  .describe('A key of a Kubernetes Secret.');

/** Where a credential comes from; the value itself is never part of the config. */
export const CredentialRef = z
  .union([
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').describe('Environment variable holding the credential.') }),
    z.strictObject({ file: z.string().min(1).describe('File holding the credential (trailing newline trimmed); re-read when it changes.') }),
    z.strictObject({ secretKeyRef: SecretKeyRef }),
  ])
  .describe('Reference to a credential: exactly one of env, file or secretKeyRef. Never the value itself.');

export const Pricing = z
  .strictObject({
    inputPerMillion: z.number().nonnegative().describe('USD per million input (prompt) tokens.'),
    outputPerMillion: z.number().nonnegative().describe('USD per million output (completion) tokens.'),
  })
  .describe('Token prices used for cost accounting and lowest-cost routing.');

export const DeploymentLimits = z
  .strictObject({
    rpm: z.number().int().positive().optional().describe('Requests per minute this deployment accepts.'),
    tpm: z.number().int().positive().optional().describe('Tokens (input + output) per minute this deployment accepts.'),
  })
  .describe('Per-deployment rate limits; a deployment at its limit is skipped.');

export const Deployment = z
  .strictObject({
    name: Name.describe('Unique name of this deployment (reported in x-switchboard-deployment).'),
    provider: ProviderKind,
    model: z.string().min(1).describe('Model name sent upstream (for Azure: the deployment name).'),
    baseUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'an http(s) URL')
      .describe('Base URL of the upstream API, e.g. https://api.openai.com/v1.'),
    apiVersion: z.string().min(1).optional().describe('Azure OpenAI api-version query parameter.'),
    credentials: CredentialRef.optional(),
    weight: z.number().positive().default(1).describe('Relative share of traffic under weighted balancing.'),
    limits: DeploymentLimits.optional(),
    pricing: Pricing.optional(),
    contextWindow: z.number().int().positive().optional().describe('Maximum prompt + completion tokens.'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra non-secret headers sent upstream.'),
  })
  .describe('One upstream serving a model.');

export const BalancingStrategy = z
  .enum(['weighted', 'least-inflight', 'lowest-latency', 'lowest-cost'])
  .describe(
    'How a deployment is picked among the healthy ones: weighted random, fewest requests in flight, lowest EWMA time to first byte, or lowest price.',
  );

/** An http(s) URL (the description is the field's own). */
export const HttpUrl = z.string().max(2048).regex(/^https?:\/\/[^\s]+$/, 'an http(s) URL');

/** Where an s3:// artifact's bucket is: shared by the runtime config and the RoutingModel. */
export const S3_LOCATION = {
  endpoint: HttpUrl.optional().describe('S3 API endpoint of an S3-compatible store (MinIO, Ceph), addressed path-style; AWS S3 when omitted.'),
  region: z.string().min(1).max(64).optional().describe("Bucket region; the data plane's AWS_REGION, else us-east-1, when omitted."),
};

export const S3ArtifactAccess = z
  .strictObject({
    ...S3_LOCATION,
    accessKeyId: CredentialRef.optional().describe('Access key id; with secretAccessKey. Neither: the pod\'s own AWS credentials (environment, web identity).'),
    secretAccessKey: CredentialRef.optional().describe('Secret access key; with accessKeyId.'),
  })
  .refine((a) => (a.accessKeyId === undefined) === (a.secretAccessKey === undefined), { message: 'accessKeyId and secretAccessKey go together: set both or neither', path: ['secretAccessKey'] })
  .describe('How the data plane reaches an s3:// artifact.');

export const RouterArtifactRef = z
  .union([
    z.strictObject({ file: z.string().min(1).describe('File holding the router artifact (gzip or plain); re-read when it changes.') }),
    z.strictObject({
      configMap: z
        .strictObject({
          name: Name.describe('Name of the ConfigMap in the gateway namespace (e.g. the `<routingmodel>-artifact` ConfigMap the operator writes).'),
          key: z.string().min(1).default('artifact.gz').describe('Key within the ConfigMap (binaryData, gzip or plain).'),
        })
        .describe('A key of a ConfigMap, watched so a new artifact applies without a restart.'),
    }),
    z
      .strictObject({
        uri: z
          .string()
          .max(2048)
          .regex(/^(https?:\/\/[^\s]+|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s]+)$/, 'an http(s):// URL or s3://bucket/key')
          .describe('http(s) URL or s3://bucket/key the data plane downloads the artifact from (gzip or plain); fetched again only when sha256 changes.'),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest').describe('Lowercase hex SHA-256 of the downloaded bytes; a mismatch rejects the artifact.'),
        s3: S3ArtifactAccess.optional(),
      })
      .refine((a) => a.s3 === undefined || a.uri.startsWith('s3://'), { message: 's3 applies to s3:// URIs only', path: ['s3'] }),
  ])
  .describe('Where the trained router artifact comes from: exactly one of file, configMap, or uri with sha256.');

export const ArtifactPublicKey = z
  .union([
    z.strictObject({ file: z.string().min(1).describe('File holding the PEM public key.') }),
    z.strictObject({ secretKeyRef: SecretKeyRef }),
  ])
  .describe('Ed25519 public key (PEM) the artifact must be signed with (`switchboard router sign`); an unsigned or wrongly signed artifact is rejected. Exactly one of file or secretKeyRef.');

export const ModelRouter = z
  .strictObject({
    artifact: RouterArtifactRef,
    publicKey: ArtifactPublicKey.optional(),
    lambda: z.number().min(0).optional().describe('Willingness to pay: one unit of predicted quality is worth lambda USD per million tokens (default 10; 0 picks the cheapest).'),
    threshold: z.number().min(0).max(1).optional().describe('Instead of lambda: the cheapest candidate predicted to reach this quality.'),
    candidates: z
      .record(z.string().min(1), Name)
      .describe('Artifact model name -> deployment name of this alias; only these models are considered.'),
  })
  .describe('A learned router picking the deployment of this alias for the first try of each request; retries and fallbacks work as without it.');

export const Model = z
  .strictObject({
    name: Name.describe('Model alias clients send in the "model" field.'),
    deployments: z.array(Deployment).min(1).describe('Upstreams that can serve this alias.'),
    strategy: BalancingStrategy.optional().describe('Overrides routing.strategy for this alias.'),
    fallbacks: z.array(Name).default([]).describe('Aliases tried in order when every deployment of this one failed.'),
    router: ModelRouter.optional(),
  })
  .describe('A model alias and the deployments behind it.');

export const RolloutMode = z
  .enum(['active', 'canary', 'shadow'])
  .describe('active: routes every request it is not the canary for; canary: routes canaryPercent of requests (by request id); shadow: decides and is recorded, never routes.');

export const AliasRoutingModel = z
  .strictObject({
    name: Name.describe('Name of this routing model (the RoutingModel), reported in x-switchboard-route-reason and metrics.'),
    mode: RolloutMode.default('active'),
    canaryPercent: z.number().int().min(0).max(100).optional().describe('Share of requests (by a hash of the request id) this model routes; canary mode only.'),
    artifact: RouterArtifactRef,
    publicKey: ArtifactPublicKey.optional(),
    lambda: ModelRouter.shape.lambda,
    threshold: ModelRouter.shape.threshold,
    candidates: z.record(z.string().min(1), Name).describe('Artifact model name -> model alias; only these models are considered.'),
    prices: z
      .record(
        z.string().min(1),
        z.strictObject({
          input: z.number().min(0).optional().describe('USD per million input tokens.'),
          output: z.number().min(0).optional().describe('USD per million output tokens.'),
        }),
      )
      .optional()
      .describe("Artifact model name -> prices the decision uses instead of the artifact's."),
    expects: z
      .strictObject({
        kind: z.string().min(1).optional().describe('Router head the artifact must hold.'),
        featurizer: z.string().min(1).optional().describe('Featurizer type the artifact must have been trained with.'),
        dimensions: z.number().int().min(1).optional().describe('Feature vector length the artifact must read.'),
      })
      .optional()
      .describe('Assertions about the artifact (from the RoutingModel spec); an artifact that differs is refused, naming the difference.'),
    embeddingsUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'an http(s) URL')
      .optional()
      .describe("Embedding service URL the artifact's http featurizer calls instead of the one recorded at training."),
  })
  .describe('One learned router deciding the alias for a virtual alias, in a rollout mode.');

export const AliasRouter = z
  .strictObject({
    name: Name.describe('Virtual model alias clients send in the "model" field (listed in /v1/models); the alias is then picked per request.'),
    default: Name.describe('Alias serving the requests no routing model routes (all of them in shadow mode, the rest of a canary).'),
    models: z.array(AliasRoutingModel).min(1).max(8).describe('At most one active, one canary and any shadow models.'),
  })
  .describe('A router picking the model alias per request; deployment routing, retries and fallbacks of that alias apply as usual.');

export const ClientKey = z
  .strictObject({
    name: Name.describe('Name of the key holder (reported in logs and audit, never the key).'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest of the key')
      .describe('Lowercase hex SHA-256 of the key: `printf %s "$KEY" | sha256sum`.'),
    models: z.array(z.string().min(1)).min(1).default(['*']).describe('Aliases this key may call; "*" allows all.'),
  })
  .describe('A client API key, stored only as its hash.');

export const Auth = z
  .strictObject({
    masterKey: CredentialRef.optional().describe('Key that may call every model.'),
    clientKeys: z.array(ClientKey).default([]),
  })
  .describe('Client authentication. Without a master key and client keys, the gateway is open.');

export const Timeouts = z
  .strictObject({
    connect: Duration.default('5s').describe('TCP/TLS connect timeout per try.'),
    firstByte: Duration.default('60s').describe('Per-try limit on the time to the upstream response headers.'),
    total: Duration.default('600s').describe('Deadline for the whole request, retries and fallbacks included.'),
  })
  .describe('Timeouts applied to every upstream call.');

export const Retries = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(10).default(2).describe('Tries per request across deployments of one alias (1 = no retry).'),
    backoff: Duration.default('100ms').describe('Base of the exponential backoff between tries.'),
    maxRetryAfter: Duration.default('5s').describe('Longest upstream Retry-After honoured before trying elsewhere.'),
  })
  .describe('Retries on connect errors, 429 and 5xx, made only before anything reached the client.');

export const Cooldown = z
  .strictObject({
    failureThreshold: z.number().int().min(1).default(3).describe('Consecutive failures that open the circuit.'),
    duration: Duration.default('30s').describe('How long a failing deployment is skipped.'),
  })
  .describe('Circuit breaker per deployment.');

export const Routing = z
  .strictObject({
    strategy: BalancingStrategy.default('weighted'),
  })
  .describe('How requests are routed to deployments.');

export const Server = z
  .strictObject({
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024).describe('Largest request body accepted (413 above).'),
  })
  .describe('HTTP server settings.');

export const PriorityLevel = z
  .enum(['critical', 'standard', 'sheddable'])
  .describe('Admission priority: critical is shed last (never by the guards), sheddable first (never queued).');

export const ClientAdmission = z
  .strictObject({
    key: Name.describe('Name of a client key (auth.clientKeys[].name), or "master" for the master key.'),
    priority: PriorityLevel.default('standard').describe(
      'Highest priority this key is entitled to; the x-switchboard-priority header may lower it, never raise it.',
    ),
    priorityClass: Name.optional().describe(
      'Priority class of this key (GatewayConfig spec.shedding.priorities[].name); keys of one class share its queue share. Absent: the key is a class of its own.',
    ),
    weight: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe(
        "Share of the freed concurrency slots this key's class gets among the classes waiting at the same priority level (weighted fair queueing); levels stay strict. Unlisted keys share one class of weight 1.",
      ),
    requestsPerMinute: z.number().int().min(1).optional().describe('Requests this key may start per sliding minute; beyond it the gateway answers 429 with Retry-After.'),
    tokensPerMinute: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Tokens (prompt estimate + max_tokens reserved at admission, settled with actual usage) per sliding minute; beyond it 429 with Retry-After.'),
  })
  .describe('Admission settings of one client key.');

const GuardThresholds = <T extends z.ZodType>(value: T, what: string) =>
  z
    .strictObject({
      sheddable: value.describe(`Above this ${what}, sheddable requests are shed.`),
      standard: value.describe(`Above this ${what}, standard requests are shed too (critical ones are still admitted).`),
    })
    .describe(`Thresholds on the ${what}.`);

export const RuntimeShedding = z
  .strictObject({
    maxConcurrency: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe('Highest concurrency limit per replica; the adaptive limit (fed by time to first byte and upstream 429/5xx) moves below it. Absent: no concurrency limit.'),
    minConcurrency: z.number().int().min(1).default(1).describe('Lowest the adaptive limit goes.'),
    queue: z
      .strictObject({
        maxDepth: z.number().int().min(0).max(100_000).default(0).describe('Requests that may wait for admission; beyond it the gateway answers 503.'),
        timeout: Duration.default('1s').describe('Longest a request waits before a 503.'),
      })
      .default({ maxDepth: 0, timeout: '1s' }),
    retryAfter: Duration.default('1s').describe('Retry-After sent with a shed (rounded up to seconds).'),
    tokenBudget: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Tokens in flight per replica: each request reserves its prompt estimate + max_tokens at admission and gives them back when it completes; beyond it 503. Absent: no token budget.'),
    defaultMaxTokens: z
      .number()
      .int()
      .min(0)
      .default(1024)
      .describe('Output tokens reserved (token budget and tokens/minute quota) for a request that sets no max_tokens.'),
    guards: z
      .strictObject({
        eventLoopDelay: GuardThresholds(Duration, 'event-loop delay (p99 over the sample interval)').optional(),
        heapUsed: GuardThresholds(z.number().gt(0).max(1), 'V8 heap use (fraction of the heap size limit)').optional(),
        interval: Duration.default('500ms').describe('How often the event loop and the heap are sampled (never per request).'),
      })
      .optional()
      .describe('Process guards: shed by priority while the event loop lags or the heap fills.'),
    clients: z.array(ClientAdmission).default([]).describe('Priority entitlement and quotas per client key; unlisted keys are standard without quota (the master key, and everyone on an open gateway, critical).'),
  })
  .describe(
    'Admission control: per-key quotas (429), then the adaptive concurrency limit, its queue, the token budget and the process guards (503), all answered at once with Retry-After. Priority comes from the client key and the x-switchboard-priority header (critical, standard, sheddable), which may only lower it; sheddable requests are never queued. Absent: no admission control.',
  );

export const RuntimeShutdown = z
  .strictObject({
    drainDelay: Duration.default('5s').describe(
      'After SIGTERM, how long the gateway keeps accepting connections (readiness already failing) so endpoint removal propagates before the listener closes.',
    ),
    maxStreamDuration: Duration.default('300s').describe(
      'Drain deadline, measured from SIGTERM: in-flight requests and streams may finish until then; streams still open are ended with a final retryable error event.',
    ),
    heartbeat: Duration.default('15s').describe('An SSE comment (": keep-alive") is sent on a stream idle this long, so idle timeouts in front do not cut it.'),
  })
  .describe('Graceful shutdown and stream keep-alive.');

function checkAliasRouters(routers: readonly z.output<typeof AliasRouter>[], aliases: ReadonlySet<string>, ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  routers.forEach((router, i) => {
    const at = (...path: (string | number)[]): (string | number)[] => ['routers', i, ...path];
    if (aliases.has(router.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `"${router.name}" is already a model alias` });
    if (names.has(router.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `duplicate router name "${router.name}"` });
    names.add(router.name);
    if (!aliases.has(router.default)) ctx.addIssue({ code: 'custom', path: at('default'), message: `unknown model alias "${router.default}"` });
    for (const mode of ['active', 'canary'] as const) {
      if (router.models.filter((m) => m.mode === mode).length > 1) ctx.addIssue({ code: 'custom', path: at('models'), message: `at most one ${mode} model` });
    }
    router.models.forEach((m, j) => {
      if ((m.mode === 'canary') !== (m.canaryPercent !== undefined)) {
        ctx.addIssue({ code: 'custom', path: at('models', j, 'canaryPercent'), message: 'required when mode is canary and allowed only then' });
      }
      if (m.lambda !== undefined && m.threshold !== undefined) ctx.addIssue({ code: 'custom', path: at('models', j, 'threshold'), message: 'set lambda or threshold, not both' });
      const entries = Object.entries(m.candidates);
      if (entries.length === 0) ctx.addIssue({ code: 'custom', path: at('models', j, 'candidates'), message: 'name at least one candidate' });
      for (const [artifactModel, alias] of entries) {
        if (!aliases.has(alias)) ctx.addIssue({ code: 'custom', path: at('models', j, 'candidates', artifactModel), message: `unknown model alias "${alias}"` });
      }
    });
  });
}

export const RuntimeTracing = z
  .strictObject({
    endpoint: HttpUrl.optional().describe(
        'OTLP/HTTP endpoint of the trace collector, e.g. http://otel-collector:4318 (spans go to its /v1/traces). Unset: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318. Read at start.',
      ),
    protocol: z.enum(['http/protobuf', 'http/json']).optional().describe('OTLP encoding. Unset: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. Read at start.'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('Share of new traces recorded, 0 to 1; parent-based: a request whose traceparent is sampled (or not) follows its parent. Unset: OTEL_TRACES_SAMPLER_ARG, else 1. Applies on reload.'),
    recordContent: z
      .array(z.string().min(1).max(253))
      .max(64)
      .default([])
      .describe('Model aliases whose prompt and completion text is recorded on upstream spans (gen_ai.input.messages, gen_ai.output.messages); "*" for every alias. Empty (the default): never recorded.'),
    serviceName: z.string().min(1).max(255).optional().describe('service.name of the spans. Unset: OTEL_SERVICE_NAME, else "switchboard".'),
  })
  .describe('OpenTelemetry tracing (W3C trace context and baggage propagated to upstreams); off when omitted, unless OTEL_EXPORTER_OTLP_ENDPOINT is set.');

export const RuntimeTelemetry = z.strictObject({ tracing: RuntimeTracing.optional() }).describe('Traces.');

export const RuntimeConfig = z
  .strictObject({
    models: z.array(Model).min(1).describe('Model aliases served by the gateway.'),
    routers: z.array(AliasRouter).optional().describe('Virtual aliases whose model alias a learned router picks per request (a GatewayConfig routingModelRef).'),
    routing: Routing.default({ strategy: 'weighted' }),
    timeouts: Timeouts.default({ connect: '5s', firstByte: '60s', total: '600s' }),
    retries: Retries.default({ maxAttempts: 2, backoff: '100ms', maxRetryAfter: '5s' }),
    cooldown: Cooldown.default({ failureThreshold: 3, duration: '30s' }),
    auth: Auth.default({ clientKeys: [] }),
    server: Server.default({ maxBodyBytes: 4 * 1024 * 1024 }),
    shedding: RuntimeShedding.optional(),
    shutdown: RuntimeShutdown.default({ drainDelay: '5s', maxStreamDuration: '300s', heartbeat: '15s' }),
    telemetry: RuntimeTelemetry.optional(),
  })
  .superRefine((config, ctx) => {
    const aliases = new Set<string>();
    const deployments = new Set<string>();
    config.models.forEach((model, i) => {
      if (aliases.has(model.name)) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'name'], message: `duplicate model alias "${model.name}"` });
      }
      aliases.add(model.name);
      model.deployments.forEach((d, j) => {
        if (deployments.has(d.name)) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'deployments', j, 'name'], message: `duplicate deployment name "${d.name}"` });
        }
        deployments.add(d.name);
        if (d.provider === 'azure' && !d.apiVersion) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'deployments', j, 'apiVersion'], message: 'required for provider azure' });
        }
      });
    });
    const keyNames = new Set(config.auth.clientKeys.map((k) => k.name));
    const seenClients = new Set<string>();
    const classWeights = new Map<string, number>();
    config.shedding?.clients.forEach((client, i) => {
      const path = ['shedding', 'clients', i, 'key'];
      if (seenClients.has(client.key)) ctx.addIssue({ code: 'custom', path, message: `duplicate client "${client.key}"` });
      seenClients.add(client.key);
      const weight = client.priorityClass === undefined ? undefined : classWeights.get(client.priorityClass);
      if (weight !== undefined && weight !== client.weight) {
        ctx.addIssue({ code: 'custom', path: ['shedding', 'clients', i, 'weight'], message: `got ${client.weight}; class "${client.priorityClass}" has weight ${weight} on another key` });
      }
      if (client.priorityClass !== undefined) classWeights.set(client.priorityClass, client.weight);
      if (client.key === 'master' ? !config.auth.masterKey : !keyNames.has(client.key)) {
        ctx.addIssue({ code: 'custom', path, message: `"${client.key}" is not a client key in auth.clientKeys (or "master" with auth.masterKey)` });
      }
    });
    const guards = config.shedding?.guards;
    if (guards?.eventLoopDelay && durationMs(guards.eventLoopDelay.standard) < durationMs(guards.eventLoopDelay.sheddable)) {
      ctx.addIssue({ code: 'custom', path: ['shedding', 'guards', 'eventLoopDelay', 'standard'], message: 'must be at least the sheddable threshold' });
    }
    if (guards?.heapUsed && guards.heapUsed.standard < guards.heapUsed.sheddable) {
      ctx.addIssue({ code: 'custom', path: ['shedding', 'guards', 'heapUsed', 'standard'], message: 'must be at least the sheddable threshold' });
    }
    config.models.forEach((model, i) => {
      const router = model.router;
      if (router !== undefined) {
        const names = new Set(model.deployments.map((d) => d.name));
        const entries = Object.entries(router.candidates);
        if (entries.length === 0) ctx.addIssue({ code: 'custom', path: ['models', i, 'router', 'candidates'], message: 'name at least one candidate' });
        for (const [artifactModel, target] of entries) {
          if (!names.has(target)) {
            ctx.addIssue({ code: 'custom', path: ['models', i, 'router', 'candidates', artifactModel], message: `"${target}" is not a deployment of the model "${model.name}"` });
          }
        }
        if (router.lambda !== undefined && router.threshold !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'router', 'threshold'], message: 'set lambda or threshold, not both' });
        }
      }
      model.fallbacks.forEach((f, k) => {
        if (!aliases.has(f)) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'fallbacks', k], message: `unknown model alias "${f}"` });
        } else if (f === model.name) {
          ctx.addIssue({ code: 'custom', path: ['models', i, 'fallbacks', k], message: 'a model cannot fall back to itself' });
        }
      });
    });
    checkAliasRouters(config.routers ?? [], aliases, ctx);
    const routerAliases = new Set((config.routers ?? []).map((r) => r.name));
    config.telemetry?.tracing?.recordContent.forEach((alias, k) => {
      if (alias !== '*' && !aliases.has(alias) && !routerAliases.has(alias)) {
        ctx.addIssue({ code: 'custom', path: ['telemetry', 'tracing', 'recordContent', k], message: 'a model alias served by this gateway, or "*" for every alias' });
      }
    });
  })
  .describe('Runtime configuration of the Switchboard data plane.');

export type RuntimeConfig = z.output<typeof RuntimeConfig>;
export type RuntimeConfigInput = z.input<typeof RuntimeConfig>;
export type Deployment = z.output<typeof Deployment>;
export type Model = z.output<typeof Model>;
export type CredentialRef = z.output<typeof CredentialRef>;
export type ModelRouter = z.output<typeof ModelRouter>;
export type RouterArtifactRef = z.output<typeof RouterArtifactRef>;
export type S3ArtifactAccess = z.output<typeof S3ArtifactAccess>;
export type ArtifactPublicKey = z.output<typeof ArtifactPublicKey>;
export type AliasRouter = z.output<typeof AliasRouter>;
export type AliasRoutingModel = z.output<typeof AliasRoutingModel>;
export type ProviderKind = z.output<typeof ProviderKind>;
export type BalancingStrategy = z.output<typeof BalancingStrategy>;
export type ClientKey = z.output<typeof ClientKey>;
export type RuntimeTracing = z.output<typeof RuntimeTracing>;
export type RuntimeShedding = z.output<typeof RuntimeShedding>;
export type PriorityLevel = z.output<typeof PriorityLevel>;

/** Names of the Secrets holding the keys of an s3:// artifact (none for other artifacts). */
export function artifactKeySecrets(artifact: RouterArtifactRef): string[] {
  const s3 = 'uri' in artifact ? artifact.s3 : undefined;
  return [s3?.accessKeyId, s3?.secretAccessKey].flatMap((ref) => (ref && 'secretKeyRef' in ref ? [ref.secretKeyRef.name] : []));
}

/** Parses a duration string ("250ms", "1.5s", "2m", "1h") into milliseconds. */
export function durationMs(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`invalid duration "${value}"`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * scale;
}
