// Which featurizer: the `--featurizer hashed|onnx:PATH|http:URL` flag at training, and the record
// in an artifact's header when a router is loaded (eval, explain, the gateway).
import { ArtifactError, tensor, type Artifact } from '../artifact.js';
import { HashedFeaturizer, type AsyncFeaturizer, type Featurizer, type HashedFeaturizerParams } from '../featurizer.js';
import { FeaturizerError } from './files.js';
import { defaultHttpParams, HttpFeaturizer } from './http.js';
import { OnnxFeaturizer } from './onnx.js';

export type FeaturizerChoice = { type: 'hashed' } | { type: 'onnx'; path: string } | { type: 'http'; url: string };

export const featurizerTypes = ['hashed', 'onnx', 'http'];

/** The API key an http featurizer sends, from the environment (never recorded in an artifact). */
export const EMBEDDINGS_API_KEY_ENV = 'SWITCHBOARD_EMBEDDINGS_API_KEY';

export function parseFeaturizerFlag(value: string): FeaturizerChoice {
  if (value === 'hashed') return { type: 'hashed' };
  if (value.startsWith('onnx:') && value.length > 5) return { type: 'onnx', path: value.slice(5) };
  if (value.startsWith('http:') && /^https?:\/\/[^\s]+$/.test(value.slice(5))) return { type: 'http', url: value.slice(5) };
  throw new FeaturizerError(`--featurizer: got "${value}"; expected hashed, onnx:PATH (a .onnx file with tokenizer.json beside it, or a folder with both) or http:URL (an OpenAI-compatible embeddings endpoint, e.g. http:http://127.0.0.1:8080/v1)`);
}

export interface OpenOptions {
  /** http: the embedding model name. */
  embeddingModel?: string;
  /** http: how many query embeddings the gateway keeps. */
  cacheSize?: number;
}

/** The onnx or http featurizer a training run embeds with. */
export function openFeaturizer(choice: Exclude<FeaturizerChoice, { type: 'hashed' }>, options: OpenOptions = {}): Promise<AsyncFeaturizer> {
  if (choice.type === 'onnx') return OnnxFeaturizer.open(choice.path);
  return HttpFeaturizer.open(
    { ...defaultHttpParams, url: choice.url, model: options.embeddingModel ?? defaultHttpParams.model, cacheSize: options.cacheSize ?? defaultHttpParams.cacheSize },
    process.env[EMBEDDINGS_API_KEY_ENV],
  );
}

/** Rebuilds the featurizer an artifact was trained with; errors name the file or field. */
export function featurizerOf(artifact: Artifact): Featurizer {
  const { type, params } = artifact.header.featurizer;
  try {
    switch (type) {
      case 'hashed': {
        const p = params as unknown as HashedFeaturizerParams;
        return new HashedFeaturizer(p, tensor(artifact, 'featurizer.idf', Float32Array, [p.dim]));
      }
      case 'onnx':
        return OnnxFeaturizer.fromRecord(params);
      case 'http':
        return HttpFeaturizer.fromRecord(params, process.env[EMBEDDINGS_API_KEY_ENV]);
      default:
        throw new ArtifactError(`router artifact featurizer "${type}" is not supported by this build (supported: ${featurizerTypes.join(', ')})`);
    }
  } catch (error) {
    if (error instanceof ArtifactError) throw error;
    throw new ArtifactError(`router artifact featurizer: ${(error as Error).message}`);
  }
}
