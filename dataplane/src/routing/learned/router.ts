// A trained router: featurizer + head + the candidates' prices. Trains, saves to and loads from
// the artifact format, and routes one query (featurize -> predict -> decide).
import { ArtifactError, decodeArtifact, encodeArtifact, tensor, type Artifact, type ModelPrice } from './artifact.js';
import { DataError, scoredModels, type RoutingExample } from './dataset.js';
import { defaultHashedParams, HashedFeaturizer, type HashedFeaturizerParams } from './featurizer.js';
import type { RouterHead, TrainingSet } from './heads/head.js';
import { EloHead } from './heads/elo.js';
import { KnnHead } from './heads/knn.js';
import { LinearHead } from './heads/linear.js';
import { NeuralHead } from './heads/neural.js';
import { RulesHead } from './heads/rules.js';
import { decide, type CandidateEstimate, type DecisionPolicy, type RouteDecision } from './policy.js';
import { packRows } from './sparse.js';

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
};

export interface TrainOptions {
  kind: string;
  featurizer?: Partial<HashedFeaturizerParams>;
  head?: Record<string, unknown>;
  seed?: number;
  /** Recorded in the artifact: how many folds the hyperparameters were validated with (0 = none). */
  folds?: number;
}

export interface RouteOptions {
  policy?: DecisionPolicy;
  /** Candidates to consider (default: every model the router knows). */
  candidates?: readonly string[];
  /** Models to skip, with the reason (cooling down, over a limit, context too small). */
  unavailable?: ReadonlyMap<string, string>;
}

export class LearnedRouter {
  readonly kind: string;
  readonly models: readonly string[];
  readonly prices: Readonly<Record<string, ModelPrice>>;
  readonly featurizer: HashedFeaturizer;
  readonly head: RouterHead;
  readonly training: { n: number; seed: number; folds: number };
  private readonly scratch: Float64Array;

  constructor(featurizer: HashedFeaturizer, head: RouterHead, models: readonly string[], prices: Record<string, ModelPrice>, training: { n: number; seed: number; folds: number }) {
    this.kind = head.kind;
    this.featurizer = featurizer;
    this.head = head;
    this.models = models;
    this.prices = prices;
    this.training = training;
    this.scratch = new Float64Array(models.length);
  }

  static train(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, options: TrainOptions): LearnedRouter {
    const kind = headKinds[options.kind];
    if (kind === undefined) throw new DataError(`--kind: got "${options.kind}"; expected one of ${Object.keys(headKinds).join(', ')}`);
    if (examples.length === 0) throw new DataError('training data is empty');
    const models = scoredModels(examples, prices);
    const featurizer = HashedFeaturizer.fit(
      examples.map((e) => e.query),
      { ...defaultHashedParams, ...options.featurizer },
    );
    const set = trainingSet(examples, models, featurizer);
    const seed = options.seed ?? 1;
    const head = kind.train(set, options.head ?? {}, seed);
    const used: Record<string, ModelPrice> = {};
    for (const m of models) used[m] = prices[m]!;
    return new LearnedRouter(featurizer, head, models, used, { n: examples.length, seed, folds: options.folds ?? 0 });
  }

  static load(bytes: Uint8Array): { router: LearnedRouter; digest: string } {
    const artifact = decodeArtifact(bytes);
    const { header } = artifact;
    const kind = headKinds[header.kind];
    if (kind === undefined) throw new ArtifactError(`router artifact kind "${header.kind}" is not supported by this build (supported: ${Object.keys(headKinds).join(', ')})`);
    if (header.featurizer.type !== 'hashed') throw new ArtifactError(`router artifact featurizer "${header.featurizer.type}" is not supported by this build (supported: hashed)`);
    const params = header.featurizer.params as unknown as HashedFeaturizerParams;
    let featurizer: HashedFeaturizer;
    try {
      featurizer = new HashedFeaturizer(params, tensor(artifact, 'featurizer.idf', Float32Array, [params.dim]));
    } catch (error) {
      throw new ArtifactError(`router artifact featurizer: ${(error as Error).message}`);
    }
    for (const m of header.models) if (header.prices[m] === undefined) throw new ArtifactError(`router artifact has no price for the model "${m}"`);
    const router = new LearnedRouter(featurizer, kind.load(artifact), header.models, header.prices, header.training);
    return { router, digest: artifact.digest };
  }

  encode(): { bytes: Uint8Array; digest: string } {
    return encodeArtifact(
      {
        kind: this.kind,
        featurizer: { type: this.featurizer.type, params: { ...this.featurizer.params } },
        models: [...this.models],
        prices: { ...this.prices },
        head: { params: this.head.params() },
        training: this.training,
      },
      [{ name: 'featurizer.idf', shape: [this.featurizer.dim], data: this.featurizer.idf }, ...this.head.tensors()],
    );
  }

  /** Predicted quality per model, in `models` order (a fresh array). */
  predict(query: string): Float64Array {
    const out = new Float64Array(this.models.length);
    this.head.predict(this.featurizer.featurize(query), out, query);
    return out;
  }

  /** List price of a model: input + output USD per million tokens. */
  price(model: string): number {
    const p = this.prices[model];
    return p === undefined ? Infinity : p.input + p.output;
  }

  route(query: string, options: RouteOptions = {}): RouteDecision {
    this.head.predict(this.featurizer.featurize(query), this.scratch, query);
    const allowed = options.candidates === undefined ? null : new Set(options.candidates);
    const estimates: CandidateEstimate[] = [];
    this.models.forEach((model, k) => {
      if (allowed === null || allowed.has(model)) estimates.push({ model, quality: this.scratch[k]!, cost: this.price(model) });
    });
    return decide(estimates, options.policy ?? { rule: 'willingness-to-pay', lambda: defaultLambda }, options.unavailable);
  }
}

/** Default willingness to pay: one full unit of quality is worth $10 per million tokens. */
export const defaultLambda = 10;

export function trainingSet(examples: readonly RoutingExample[], models: readonly string[], featurizer: HashedFeaturizer): TrainingSet {
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
