// The RoutingModel custom resource: a learned (or rule-based) router that picks a model alias per
// request, its artifact, its decision policy and how it is rolled out.
import { z } from 'zod';
import { customResourceDefinition, listMap, withRules, type CrdDefinition } from './crd.js';
import { Conditions, GROUP, LocalObjectReference, ObjectName, VERSION } from './group.js';
import { HttpUrl, S3_LOCATION } from './runtime-config.js';

export const RouterKind = z
  .enum(['knn', 'linear', 'mlp', 'mf', 'elo', 'rules', 'gbdt', 'blend'])
  .describe(
    'Router head: knn (nearest labelled prompts), linear (logistic/SVM), mlp (small neural net), mf (matrix factorisation), elo (pairwise ratings), rules (hand-written conditions), gbdt (boosted trees on the query shape), blend (mean of several heads). Checked against the artifact: a different head makes the RoutingModel InvalidArtifact.',
  );

export const Featurizer = withRules(
  z.strictObject({
    type: z
      .enum(['hashed', 'onnx', 'http'])
      .describe('hashed: hashed n-grams in-process; onnx: an embedding model in-process; http: an embedding service. Must be the featurizer the artifact was trained with.'),
    dimensions: z
      .number()
      .int()
      .min(1)
      .max(16_777_216)
      .optional()
      .describe("Length of the feature vector the artifact's head reads (e.g. 384 for MiniLM); when set, an artifact with another length is refused. The artifact decides when omitted."),
    url: HttpUrl.optional().describe('Embedding service URL (OpenAI /v1/embeddings wire format) the gateway calls instead of the one recorded in the artifact at training; http featurizer only.'),
  }),
  [
    {
      rule: "(self.type == 'http') == has(self.url)",
      message: 'url is required for the http featurizer and allowed only there',
      path: ['url'],
      holds: (f) => (f.type === 'http') === (f.url !== undefined),
    },
  ],
).describe('How a request is turned into features: an assertion about the artifact (type, dimensions) plus, for http, where to embed. Omitted: whatever the artifact was trained with.');

export const Candidate = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - (starting with a letter or digit)')
      .describe('Model alias of the GatewayConfig that uses this router.'),
    artifactModel: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Name of this model in the artifact, when it was trained under another name than the alias (default: the alias).'),
    inputPrice: z.number().min(0).optional().describe("USD per million input tokens the decision uses for this candidate; the price recorded in the artifact at training when omitted."),
    outputPrice: z.number().min(0).optional().describe("USD per million output tokens the decision uses for this candidate; the price recorded in the artifact at training when omitted."),
  })
  .describe('A model the router may choose.');

export const DecisionPolicy = z
  .strictObject({
    willingnessToPay: z
      .number()
      .min(0)
      .optional()
      .describe(
        'USD per million tokens (input + output price) one unit of predicted quality (0 to 1) is worth: picks the candidate maximising willingnessToPay × quality − price; 0 picks the cheapest.',
      ),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('Quality bar, 0 to 1: picks the cheapest candidate predicted to reach it, or the best predicted one when none does.'),
  })
  .describe('How predicted quality and cost become a choice: exactly one of willingnessToPay or threshold.');

const Sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 digest')
  .describe('Lowercase hex SHA-256 of the artifact bytes, checked before use.');

export const ArtifactS3 = z
  .strictObject({
    ...S3_LOCATION,
    credentialsSecretRef: LocalObjectReference.optional().describe(
      'Secret (same namespace as the GatewayConfig) holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the data plane pod\'s own AWS identity is used when omitted.',
    ),
  })
  .describe('How the data plane reaches an s3:// artifact.');

export const Artifact = withRules(
  z.union([
    z.strictObject({
      inline: z
        .string()
        .min(1)
        .max(65_536)
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
        .describe('The artifact itself, base64 (up to 64 KiB encoded): for tiny routers such as rules or elo.'),
    }),
    z.strictObject({
      configMapRef: z
        .strictObject({
          name: ObjectName.describe('ConfigMap name, same namespace.'),
          key: z
            .string()
            .min(1)
            .max(253)
            .regex(/^[-._a-zA-Z0-9]+$/, 'a ConfigMap key')
            .describe('Key in data or binaryData.'),
        })
        .describe('A key of a ConfigMap in the same namespace.'),
    }),
    z.strictObject({
      uri: z
        .string()
        .max(2048)
        .regex(/^(https?:\/\/[^\s]+|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s]+)$/, 'an http(s):// URL or s3://bucket/key')
        .describe('Where the data plane downloads the artifact: an http(s) URL or s3://bucket/key.'),
      sha256: Sha256,
      s3: ArtifactS3.optional(),
    }),
  ]),
  [
    {
      rule: "!has(self.s3) || (has(self.uri) && self.uri.startsWith('s3://'))",
      message: 's3 applies to s3:// URIs only',
      path: ['s3'],
      holds: (a) => !('s3' in a && a.s3 !== undefined) || a.uri.startsWith('s3://'),
    },
  ],
).describe('The trained router: exactly one of inline, configMapRef, or uri with sha256.');

export const Rollout = withRules(
  z.strictObject({
    mode: z
      .enum(['shadow', 'canary', 'active'])
      .default('shadow')
      .describe('shadow: decide and record, but route as before; canary: route canaryPercent of requests; active: route all.'),
    canaryPercent: z.number().int().min(0).max(100).optional().describe('Share of requests routed by this model in canary mode, 0 to 100.'),
    alongside: ObjectName.optional().describe(
      'RoutingModel (same namespace) this one rolls out next to: every GatewayConfig routing through that one runs this one too, in shadow or canary mode. Without it, this model is the one a GatewayConfig references.',
    ),
  }),
  [
    {
      rule: "!has(self.alongside) || self.mode != 'active'",
      message: 'alongside is for a shadow or canary rollout; an active RoutingModel is referenced by the GatewayConfig itself',
      path: ['alongside'],
      holds: (r) => r.alongside === undefined || r.mode !== 'active',
    },
    {
      rule: "(self.mode == 'canary') == has(self.canaryPercent)",
      message: 'canaryPercent is required when mode is canary and allowed only then',
      path: ['canaryPercent'],
      holds: (r) => (r.mode === 'canary') === (r.canaryPercent !== undefined),
    },
  ],
).describe('How traffic moves to this router.');

export const RoutingModelSpec = withRules(
  z.strictObject({
    router: RouterKind,
    featurizer: Featurizer.optional(),
    candidates: listMap(z.array(Candidate).min(2).max(32), 'name').describe('Models the router chooses among (2 to 32, names unique); each must be a model of the artifact (see artifactModel).'),
    decision: withRules(DecisionPolicy, [
      {
        rule: 'has(self.willingnessToPay) != has(self.threshold)',
        message: 'exactly one of willingnessToPay or threshold must be set',
        holds: (d) => (d.willingnessToPay === undefined) !== (d.threshold === undefined),
      },
    ]),
    artifact: Artifact,
    rollout: Rollout.default({ mode: 'shadow' }),
  }),
  [
    {
      rule: 'self.candidates.all(c, self.candidates.exists_one(d, (has(d.artifactModel) ? d.artifactModel : d.name) == (has(c.artifactModel) ? c.artifactModel : c.name)))',
      message: 'two candidates name the same artifact model',
      path: ['candidates'],
      holds: (s) => new Set(s.candidates.map((c) => c.artifactModel ?? c.name)).size === s.candidates.length,
    },
  ],
).describe('Desired state of a router that picks a model alias per request.');

export const Evaluation = z
  .strictObject({
    quality: z.number().min(0).max(1).describe('Mean quality (win rate or judge score, 0 to 1) on the evaluation set.'),
    cost: z.number().min(0).describe('Mean cost in USD per request on the evaluation set.'),
    n: z.number().int().min(0).describe('Evaluation requests behind these numbers.'),
  })
  .describe('Offline evaluation of the artifact.');

export const RoutingModelStatus = z
  .strictObject({
    observedGeneration: z.number().int().min(0).optional().describe('metadata.generation of the spec the operator last reconciled.'),
    conditions: Conditions.optional(),
    artifactSha256: z.string().max(64).optional().describe('SHA-256 of the artifact the data plane loads.'),
    evaluation: Evaluation.optional(),
  })
  .describe('Observed state, written by the operator.');

export type RoutingModelSpec = z.output<typeof RoutingModelSpec>;
export type RoutingModelSpecInput = z.input<typeof RoutingModelSpec>;
export type RoutingModelStatus = z.output<typeof RoutingModelStatus>;

export const routingModelDefinition: CrdDefinition = {
  group: GROUP,
  version: VERSION,
  kind: 'RoutingModel',
  plural: 'routingmodels',
  singular: 'routingmodel',
  shortNames: ['rm'],
  categories: ['switchboard'],
  description: 'A router that picks the model alias for each request of the GatewayConfigs referencing it (spec.routing.routingModelRef).',
  spec: RoutingModelSpec,
  status: RoutingModelStatus,
  printerColumns: [
    { name: 'Kind', type: 'string', jsonPath: '.spec.router', description: 'Router head.' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.rollout.mode', description: 'Rollout mode.' },
    { name: 'Canary', type: 'integer', jsonPath: '.spec.rollout.canaryPercent', description: 'Canary percent.', priority: 1 },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Ready condition.' },
    { name: 'Quality', type: 'number', jsonPath: '.status.evaluation.quality', description: 'Evaluated quality.', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};

export const routingModelCrd = customResourceDefinition(routingModelDefinition);
