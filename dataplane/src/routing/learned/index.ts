// Learned routing: featurize a query, predict each model's quality, trade it against cost.
export { ArtifactError, ARTIFACT_VERSION, decodeArtifact, encodeArtifact, type ArtifactHeader, type ModelPrice } from './artifact.js';
export { crossValidate, foldAssignment, meanSpread, type CrossValidation } from './crossval.js';
export { seededRandom } from '../../seeded-random.js';
export { DataError, parseExamples, parseModels, type RoutingExample } from './dataset.js';
export { calibrateLambda, calibrationLambdas } from './calibrate.js';
export { defaultLambdas, evaluate, evaluatePredictions, summarizeModels, type EvalReport } from './evaluate.js';
export { defaultHashedParams, HashedFeaturizer, type AsyncFeaturizer, type Featurizer, type FeaturizerRecord, type HashedFeaturizerParams, type SyncFeaturizer } from './featurizer.js';
export { EMBEDDINGS_API_KEY_ENV, featurizerOf, openFeaturizer, parseFeaturizerFlag, type FeaturizerChoice } from './featurizers/choice.js';
export { embedAhead, EmbeddedFeaturizer } from './featurizers/embedded.js';
export { FeaturizerError } from './featurizers/files.js';
export { HttpFeaturizer, type HttpParams } from './featurizers/http.js';
export { OnnxFeaturizer, type OnnxParams } from './featurizers/onnx.js';
export { decide, NoCandidateError, type CandidateEstimate, type DecisionPolicy, type RouteDecision } from './policy.js';
export { defaultLambda, headKinds, LearnedRouter, type RouteOptions, type TrainOptions } from './router.js';
