// In-process sentence embeddings: a BERT-style ONNX model (all-MiniLM-L6-v2 and the like) on
// onnxruntime-node, WordPiece tokens from the tokenizer.json beside it, mean pooling over the
// tokens and L2 normalisation, as sentence-transformers computes them. One query per model run,
// never a padded batch, so a query embeds to the same vector in training and in the gateway.
// onnxruntime-node and the tokenizer load on first use: a gateway without an onnx router never pays.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { Tokenizer } from '@huggingface/tokenizers';
import type { AsyncFeaturizer, FeaturizerRecord } from '../featurizer.js';
import type { SparseVector } from '../sparse.js';
import { denseRow, meanPool, normalize } from './dense.js';
import { FeaturizerError, readModelFile, sha256 } from './files.js';

export interface OnnxFiles {
  model: string;
  tokenizer: string;
}

export interface OnnxParams extends OnnxFiles {
  dim: number;
  modelSha256: string;
  tokenizerSha256: string;
  /** Longest token sequence embedded, [CLS] and [SEP] included (sentence-transformers: 256). */
  maxTokens: number;
}

export const defaultMaxTokens = 256;

const FETCH_HINT = 'for all-MiniLM-L6-v2 run scripts/models/fetch-minilm.sh, or pass --featurizer onnx:PATH with the model file';

/** `path` is a .onnx file (tokenizer.json beside it) or a folder holding model.onnx and tokenizer.json. */
export function onnxFiles(path: string): OnnxFiles {
  const full = resolve(path);
  const isDir = existsSync(full) && statSync(full).isDirectory();
  const model = isDir ? join(full, 'model.onnx') : full;
  return { model, tokenizer: join(dirname(model), 'tokenizer.json') };
}

interface Loaded {
  session: InferenceSession;
  tokenizer: Tokenizer;
  Tensor: typeof OrtTensor;
  tokenTypes: boolean;
}

export class OnnxFeaturizer implements AsyncFeaturizer {
  readonly sync = false;
  readonly type = 'onnx';
  readonly dim: number;
  readonly params: OnnxParams;
  private loaded: Promise<Loaded> | undefined;
  private modelBytes: Buffer | undefined;
  private tokenizerText: string | undefined;

  private constructor(params: OnnxParams, modelBytes: Buffer, tokenizerText: string) {
    this.params = params;
    this.dim = params.dim;
    this.modelBytes = modelBytes;
    this.tokenizerText = tokenizerText;
  }

  /** For training: reads the files, loads the model and measures its embedding size. */
  static async open(path: string, maxTokens = defaultMaxTokens): Promise<OnnxFeaturizer> {
    const files = onnxFiles(path);
    const model = readModelFile(files.model, 'onnx featurizer model', FETCH_HINT);
    const tokenizer = readModelFile(files.tokenizer, 'onnx featurizer tokenizer', 'put the model\'s tokenizer.json beside the .onnx file');
    const probe = new OnnxFeaturizer({ ...files, dim: 0, modelSha256: sha256(model), tokenizerSha256: sha256(tokenizer), maxTokens }, model, tokenizer.toString('utf8'));
    const dim = (await probe.embed('')).length;
    const featurizer = new OnnxFeaturizer({ ...probe.params, dim }, model, tokenizer.toString('utf8'));
    featurizer.loaded = probe.loaded;
    return featurizer;
  }

  /**
   * From an artifact's record: checks that the files are there and are the ones it was trained
   * with (sha256), synchronously, so a wrong or missing file rejects the artifact at load.
   */
  static fromRecord(params: Record<string, unknown>): OnnxFeaturizer {
    const p = onnxParams(params);
    const model = readModelFile(p.model, 'onnx featurizer model', FETCH_HINT);
    if (sha256(model) !== p.modelSha256) throw new FeaturizerError(`onnx featurizer model ${p.model} has sha256 ${sha256(model)}; the router was trained with ${p.modelSha256} (put that file there, or retrain)`);
    const tokenizer = readModelFile(p.tokenizer, 'onnx featurizer tokenizer', `put ${basename(p.tokenizer)} beside the model`);
    if (sha256(tokenizer) !== p.tokenizerSha256) throw new FeaturizerError(`onnx featurizer tokenizer ${p.tokenizer} has sha256 ${sha256(tokenizer)}; the router was trained with ${p.tokenizerSha256}`);
    return new OnnxFeaturizer(p, model, tokenizer.toString('utf8'));
  }

  record(): FeaturizerRecord {
    return { type: this.type, params: { ...this.params } };
  }

  async featurize(text: string): Promise<SparseVector> {
    return denseRow(await this.embed(text));
  }

  async featurizeMany(texts: readonly string[]): Promise<SparseVector[]> {
    const rows: SparseVector[] = [];
    for (const text of texts) rows.push(await this.featurize(text));
    return rows;
  }

  /** The token ids the model reads for `text`. */
  async tokenIds(text: string): Promise<number[]> {
    return this.tokenize((await this.load()).tokenizer, text);
  }

  /** Token ids of `text`, [CLS] ... [SEP], truncated to maxTokens as the tokenizers library does. */
  private tokenize(tokenizer: Tokenizer, text: string): number[] {
    const max = this.params.maxTokens;
    // A long prompt: tokenize a prefix cut at whitespace (its tokens are a prefix of the whole
    // text's); fall back to the whole text in the rare case the prefix yields too few tokens.
    if (text.length > max * 16) {
      const cut = text.lastIndexOf(' ', max * 16);
      if (cut > 0) {
        const ids = tokenizer.encode(text.slice(0, cut)).ids;
        if (ids.length >= max) return truncate(ids, max);
      }
    }
    return truncate(tokenizer.encode(text).ids, max);
  }

  /** The L2-normalised mean-pooled embedding (length dim). */
  async embed(text: string): Promise<Float32Array> {
    const { session, tokenizer, Tensor, tokenTypes } = await this.load();
    const ids = this.tokenize(tokenizer, text);
    const n = ids.length;
    const shape = [1, n];
    const feeds: Record<string, OrtTensor> = {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), shape),
      attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), shape),
    };
    if (tokenTypes) feeds.token_type_ids = new Tensor('int64', new BigInt64Array(n), shape);
    const output = (await session.run(feeds))[session.outputNames[0]!]!;
    const data = output.data as Float32Array;
    // [1, tokens, dim] hidden states are mean-pooled; a [1, dim] output is already pooled.
    const pooled = output.dims.length === 3 ? meanPool(data, Number(output.dims[1]), Number(output.dims[2])) : Float32Array.from(data);
    if (this.dim !== 0 && pooled.length !== this.dim) throw new FeaturizerError(`onnx featurizer model ${this.params.model} returned ${pooled.length} dimensions; the router expects ${this.dim}`);
    return normalize(pooled);
  }

  private load(): Promise<Loaded> {
    this.loaded ??= this.start();
    return this.loaded;
  }

  private async start(): Promise<Loaded> {
    const [ort, { Tokenizer }] = await Promise.all([import('onnxruntime-node'), import('@huggingface/tokenizers')]);
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(this.modelBytes!, { graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    } catch (error) {
      throw new FeaturizerError(`onnx featurizer model ${this.params.model} cannot be loaded by onnxruntime: ${(error as Error).message}`);
    }
    for (const input of ['input_ids', 'attention_mask']) {
      if (!session.inputNames.includes(input)) throw new FeaturizerError(`onnx featurizer model ${this.params.model} has inputs ${session.inputNames.join(', ')}; expected input_ids and attention_mask (a BERT-style text encoder)`);
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(JSON.parse(this.tokenizerText!) as object, {});
    } catch (error) {
      throw new FeaturizerError(`onnx featurizer tokenizer ${this.params.tokenizer} is not a tokenizers JSON file: ${(error as Error).message}`);
    }
    this.modelBytes = undefined;
    this.tokenizerText = undefined;
    return { session, tokenizer, Tensor: ort.Tensor, tokenTypes: session.inputNames.includes('token_type_ids') };
  }
}

function truncate(ids: number[], max: number): number[] {
  return ids.length <= max ? ids : [...ids.slice(0, max - 1), ids[ids.length - 1]!];
}

function onnxParams(raw: Record<string, unknown>): OnnxParams {
  const problems: string[] = [];
  const str = (name: string): string => {
    const v = raw[name];
    if (typeof v !== 'string' || v === '') problems.push(`${name}: expected a non-empty string`);
    return String(v);
  };
  const p: OnnxParams = {
    model: str('model'),
    tokenizer: str('tokenizer'),
    modelSha256: str('modelSha256'),
    tokenizerSha256: str('tokenizerSha256'),
    dim: Number(raw.dim),
    maxTokens: Number(raw.maxTokens),
  };
  if (!Number.isInteger(p.dim) || p.dim < 1) problems.push(`dim: got ${JSON.stringify(raw.dim)}; expected a positive integer`);
  if (!Number.isInteger(p.maxTokens) || p.maxTokens < 3) problems.push(`maxTokens: got ${JSON.stringify(raw.maxTokens)}; expected an integer >= 3`);
  if (problems.length > 0) throw new FeaturizerError(`onnx featurizer record: ${problems.join('; ')}`);
  return p;
}
