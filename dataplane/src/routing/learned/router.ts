// A trained router: featurizer + head + the candidates' prices. Trains, saves to and loads from
// the artifact format, and routes one query (featurize -> predict -> decide).
import { ArtifactError, decodeArtifact, encodeArtifact, type Artifact, type LambdaCalibration, type ModelPrice, type TrainingRecord } from './artifact.js';
import { DataError, scoredModels, type RoutingExample } from './dataset.js';
import { defaultHashedParams, HashedFeaturizer, type Featurizer, type HashedFeaturizerParams, type SyncFeaturizer } from './featurizer.js';
import { featurizerOf } from './featurizers/choice.js';
import { embedAhead } from './featurizers/embedded.js';
import type { RouterHead, TrainingSet } from './heads/head.js';
import { BlendHead } from './heads/blend.js';
import { EloHead } from './heads/elo.js';
import { KnnHead } from './heads/knn.js';
import { LinearHead } from './heads/linear.js';
import { NeuralHead } from './heads/neural.js';
import { RulesHead } from './heads/rules.js';
import { TreesHead } from './heads/trees.js';
import { decide, type CandidateEstimate, type DecisionPolicy, type RouteDecision } from './policy.js';
import { packRows, type SparseVector } from './sparse.js';

interface HeadKind {
  train(set: TrainingSet, params: Record<string, unknown>, seed: number): RouterHead;
  load(artifact: Artifact): RouterHead;
}

export const headKinds: Record<string, HeadKind> = {
  knn: { train: (set, params) => KnnHead.train(set, params), load: (a) => KnnHead.load(a) },
  linear: { train: (set, params) => LinearHead.train(set, params), load: (a) => LinearHead.load(a) },
  mlp: { train: (set, params, seed) => NeuralHead.train('mlp', set, params, seed), load: (a) => NeuralHead.load('mlp', a) },
  mf: { train: (set, params, seed) => NeuralHead.train('mf', set, params, seed), load: (a) => NeuralHead.load('mf', a) },
  elo: { train: (set, params) => EloHead.train(set, params), load: (a) => EloHead.load(a) },
  rules: { train: (set, params) => RulesHead.train(set, params), load: (a) => RulesHead.load(a) },
  gbdt: { train: (set, params, seed) => TreesHead.train(set, params, seed), load: (a) => TreesHead.load(a) },
  blend: { train: (set, params, seed) => BlendHead.train(set, params, seed, headKinds), load: (a) => BlendHead.load(a, headKinds) },
};

export interface TrainOptions {
  kind: string;
  featurizer?: Partial<HashedFeaturizerParams>;
  /** A featurizer that is not fitted on the data (onnx, http: see embedAhead); default: fit a hashed one. */
  fixedFeaturizer?: SyncFeaturizer;
  head?: Record<string, unknown>;
  seed?: number;
  /** Recorded in the artifact: how many folds the hyperparameters were validated with (0 = none). */
  folds?: number;
  /** Recorded in the artifact: the lambda calibrated for this router (calibrateLambda), its default policy. */
  calibration?: LambdaCalibration;
}

export interface RouteOptions {
  policy?: DecisionPolicy;
  /** Candidates to consider (default: every model the router knows). */
  candidates?: readonly string[];
  /** Models to skip, with the reason (cooling down, over a limit, context too small). */
  unavailable?: ReadonlyMap<string, string>;
  /** Filled with where the decision spent its time (for the route span); not measured without it. */
  timing?: DecisionTiming;
}

/** Milliseconds spent featurizing the query, in the head's prediction and in the policy. */
export interface DecisionTiming {
  featurizeMs: number;
  headMs: number;
  policyMs: number;
}

export class LearnedRouter {
  readonly kind: string;
  readonly models: readonly string[];
  readonly prices: Readonly<Record<string, ModelPrice>>;
  readonly featurizer: Featurizer;
  readonly head: RouterHead;
  readonly training: TrainingRecord;
  /** Without a policy of the caller's: the calibrated lambda when training recorded one, else defaultLambda. */
  readonly defaultPolicy: DecisionPolicy;
  private readonly scratch: Float64Array;

  constructor(featurizer: Featurizer, head: RouterHead, models: readonly string[], prices: Record<string, ModelPrice>, training: TrainingRecord) {
    this.kind = head.kind;
    this.featurizer = featurizer;
    this.head = head;
    this.models = models;
    this.prices = prices;
    this.training = training;
    this.defaultPolicy = { rule: 'willingness-to-pay', lambda: training.calibration?.lambda ?? defaultLambda };
    this.scratch = new Float64Array(models.length);
  }

  static train(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, options: TrainOptions): LearnedRouter {
    const kind = headKinds[options.kind];
    if (kind === undefined) throw new DataError(`--kind: got "${options.kind}"; expected one of ${Object.keys(headKinds).join(', ')}`);
    if (examples.length === 0) throw new DataError('training data is empty');
    const models = scoredModels(examples, prices);
    const featurizer = options.fixedFeaturizer ?? HashedFeaturizer.fit(examples.map((e) => e.query), { ...defaultHashedParams, ...options.featurizer });
    const set = trainingSet(examples, models, featurizer);
    const seed = options.seed ?? 1;
    const dense = featurizer.type === 'hashed' ? {} : denseHeadDefaults[options.kind];
    const head = kind.train(set, { ...dense, ...options.head }, seed);
    const used: Record<string, ModelPrice> = {};
    for (const m of models) used[m] = prices[m]!;
    return new LearnedRouter(featurizer, head, models, used, { n: examples.length, seed, folds: options.folds ?? 0, ...(options.calibration === undefined ? {} : { calibration: options.calibration }) });
  }

  static load(bytes: Uint8Array, digest?: string): { router: LearnedRouter; digest: string } {
    const artifact = decodeArtifact(bytes, digest);
    const { header } = artifact;
    const kind = headKinds[header.kind];
    if (kind === undefined) throw new ArtifactError(`router artifact kind "${header.kind}" is not supported by this build (supported: ${Object.keys(headKinds).join(', ')})`);
    const featurizer = featurizerOf(artifact);
    for (const m of header.models) if (header.prices[m] === undefined) throw new ArtifactError(`router artifact has no price for the model "${m}"`);
    const router = new LearnedRouter(featurizer, kind.load(artifact), header.models, header.prices, header.training);
    return { router, digest: artifact.digest };
  }

  encode(): { bytes: Uint8Array; digest: string } {
    return encodeArtifact(
      {
        kind: this.kind,
        featurizer: this.featurizer.record(),
        models: [...this.models],
        prices: { ...this.prices },
        head: { params: this.head.params() },
        training: this.training,
      },
      [...(this.featurizer.sync ? this.featurizer.tensors() : []), ...this.head.tensors()],
    );
  }

  /** Predicted quality per model, in `models` order (a fresh array). */
  predict(query: string): Float64Array {
    const out = new Float64Array(this.models.length);
    this.head.predict(this.features(query), out, query);
    return out;
  }

  /** The same router reading features embedded ahead for `queries` (eval of an onnx or http router). */
  async embeddedFor(queries: readonly string[]): Promise<LearnedRouter> {
    if (this.featurizer.sync) return this;
    return new LearnedRouter(await embedAhead(this.featurizer, queries), this.head, this.models, { ...this.prices }, this.training);
  }

  /** The query's features, or none for a head that reads only the text. */
  private features(query: string): SparseVector {
    return this.head.readsFeatures ? this.syncFeaturizer().featurize(query) : NO_FEATURES;
  }

  private syncFeaturizer(): SyncFeaturizer {
    if (!this.featurizer.sync) throw new Error(`the ${this.featurizer.type} featurizer is asynchronous: use routeAsync`);
    return this.featurizer;
  }

  /** List price of a model: input + output USD per million tokens. */
  price(model: string): number {
    const p = this.prices[model];
    return p === undefined ? Infinity : p.input + p.output;
  }

  /** Synchronous: hashed featurizer only (the gateway's fast path). */
  route(query: string, options: RouteOptions = {}): RouteDecision {
    const started = options.timing ? performance.now() : 0;
    const x = this.features(query);
    if (options.timing) options.timing.featurizeMs = performance.now() - started;
    return this.decideFor(x, query, options);
  }

  /** Any featurizer; the onnx and http ones embed the query first. */
  async routeAsync(query: string, options: RouteOptions = {}): Promise<RouteDecision> {
    const f = this.featurizer;
    if (f.sync || !this.head.readsFeatures) return this.route(query, options);
    const started = options.timing ? performance.now() : 0;
    const x = await f.featurize(query);
    if (options.timing) options.timing.featurizeMs = performance.now() - started;
    return this.decideFor(x, query, options);
  }

  private decideFor(x: SparseVector, query: string, options: RouteOptions): RouteDecision {
    const started = options.timing ? performance.now() : 0;
    this.head.predict(x, this.scratch, query);
    const predicted = options.timing ? performance.now() : 0;
    const allowed = options.candidates === undefined ? null : new Set(options.candidates);
    const estimates: CandidateEstimate[] = [];
    this.models.forEach((model, k) => {
      if (allowed === null || allowed.has(model)) estimates.push({ model, quality: this.scratch[k]!, cost: this.price(model) });
    });
    const decision = decide(estimates, options.policy ?? this.defaultPolicy, options.unavailable);
    if (options.timing) {
      options.timing.headMs = predicted - started;
      options.timing.policyMs = performance.now() - predicted;
    }
    return decision;
  }
}

/** What a head that reads only the text is given instead of the query's features. */
const NO_FEATURES: SparseVector = { indices: new Int32Array(0), values: new Float32Array(0) };

/** Default willingness to pay: one full unit of quality is worth $10 per million tokens. */
export const defaultLambda = 10;

/**
 * Head parameters for dense embeddings: kNN matches every dimension, not the strongest few; ridge
 * needs a stronger penalty (alpha 60: +2.5 points in 5-fold CV on MiniLM, +1.8 at the hashed 10).
 */
const denseHeadDefaults: Record<string, Record<string, unknown>> = { knn: { maxQueryTerms: 0 }, linear: { alpha: 60 } };

export function trainingSet(examples: readonly RoutingExample[], models: readonly string[], featurizer: SyncFeaturizer): TrainingSet {
  const m = models.length;
  const targets = new Float32Array(examples.length * m).fill(NaN);
  examples.forEach((e, r) => {
    models.forEach((model, k) => {
      const y = e.scores[model];
      if (y !== undefined) targets[r * m + k] = y;
    });
  });
  return { rows: packRows(examples.map((e) => featurizer.featurize(e.query)), featurizer.dim), targets, models, queries: examples.map((e) => e.query) };
}
