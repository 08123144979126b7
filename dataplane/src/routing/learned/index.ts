// Learned routing: featurize a query, predict each model's quality, trade it against cost.
export { ArtifactError, ARTIFACT_VERSION, decodeArtifact, encodeArtifact, type ArtifactHeader, type ModelPrice } from './artifact.js';
export { crossValidate, foldAssignment, meanSpread, type CrossValidation } from './crossval.js';
export { seededRandom } from '../../seeded-random.js';
export { DataError, parseExamples, parseModels, type RoutingExample } from './dataset.js';
export { evaluate, summarizeModels, type EvalReport } from './evaluate.js';
export { defaultHashedParams, HashedFeaturizer, type HashedFeaturizerParams } from './featurizer.js';
export { decide, NoCandidateError, type CandidateEstimate, type DecisionPolicy, type RouteDecision } from './policy.js';
export { defaultLambda, headKinds, LearnedRouter, type RouteOptions, type TrainOptions } from './router.js';
