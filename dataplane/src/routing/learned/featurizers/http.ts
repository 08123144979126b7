// Embeddings from any OpenAI-compatible /v1/embeddings endpoint: POST {model, input}, batched for
// training, one query at a time in the gateway behind a bounded LRU cache (keyed by the text's
// sha256, so the cache holds no prompt text). Vectors are L2-normalised like the onnx ones.
import { LRUCache } from 'lru-cache';
import type { AsyncFeaturizer, FeaturizerRecord } from '../featurizer.js';
import type { SparseVector } from '../sparse.js';
import { denseRow, normalize } from './dense.js';
import { FeaturizerError, sha256 } from './files.js';

export interface HttpParams {
  /** The endpoint: a base URL such as http://host/v1 (POSTs go to its /embeddings) or the full /embeddings URL. */
  url: string;
  /** The embedding model the endpoint serves. */
  model: string;
  /** Embedding length; 0 until measured (training). */
  dim: number;
  /** Queries whose embedding is kept (LRU). */
  cacheSize: number;
  timeoutMs: number;
  /** Texts per request when embedding many (training, eval). */
  batchSize: number;
}

export const defaultHttpParams = { model: 'text-embedding-3-small', cacheSize: 4096, timeoutMs: 10_000, batchSize: 64 };

export function embeddingsEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/embeddings') ? trimmed : `${trimmed}/embeddings`;
}

export class HttpFeaturizer implements AsyncFeaturizer {
  readonly sync = false;
  readonly type = 'http';
  readonly dim: number;
  readonly params: HttpParams;
  private readonly endpoint: string;
  private readonly apiKey: string | undefined;
  private readonly cache: LRUCache<string, SparseVector>;
  /** Requests in flight by key, so concurrent requests with the same prompt embed it once. */
  private readonly pending = new Map<string, Promise<SparseVector>>();

  constructor(params: HttpParams, apiKey?: string) {
    this.params = checkHttpParams(params);
    this.dim = this.params.dim;
    this.endpoint = embeddingsEndpoint(params.url);
    this.apiKey = apiKey;
    this.cache = new LRUCache({ max: this.params.cacheSize });
  }

  /** For training: asks the endpoint once to learn the embedding length. */
  static async open(params: Omit<HttpParams, 'dim'>, apiKey?: string): Promise<HttpFeaturizer> {
    const probe = new HttpFeaturizer({ ...params, dim: 0 }, apiKey);
    const [vector] = await probe.request(['dimension probe']);
    return new HttpFeaturizer({ ...params, dim: vector!.length }, apiKey);
  }

  static fromRecord(params: Record<string, unknown>, apiKey?: string): HttpFeaturizer {
    return new HttpFeaturizer(params as unknown as HttpParams, apiKey);
  }

  record(): FeaturizerRecord {
    return { type: this.type, params: { ...this.params } };
  }

  /** Texts currently cached. */
  get cached(): number {
    return this.cache.size;
  }

  async featurize(text: string): Promise<SparseVector> {
    const key = sha256(text);
    const hit = this.cache.get(key) ?? this.pending.get(key);
    if (hit !== undefined) return hit;
    const embedding = this.request([text])
      .then(([vector]) => {
        const row = denseRow(vector!);
        this.cache.set(key, row);
        return row;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, embedding);
    return embedding;
  }

  /** Embeds in batches of batchSize; does not fill the cache (training data is not traffic). */
  async featurizeMany(texts: readonly string[]): Promise<SparseVector[]> {
    const rows: SparseVector[] = [];
    for (let start = 0; start < texts.length; start += this.params.batchSize) {
      for (const vector of await this.request(texts.slice(start, start + this.params.batchSize))) rows.push(denseRow(vector));
    }
    return rows;
  }

  private async request(input: readonly string[]): Promise<Float32Array[]> {
    const where = `http featurizer ${this.endpoint} (model ${this.params.model})`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: this.params.model, input }),
        signal: AbortSignal.timeout(this.params.timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      const e = error as Error;
      if (e.name === 'TimeoutError') throw new FeaturizerError(`${where}: no answer within ${this.params.timeoutMs} ms`);
      throw new FeaturizerError(`${where}: request failed: ${(e.cause as Error | undefined)?.message ?? e.message}`);
    }
    if (!response.ok) throw new FeaturizerError(`${where}: answered ${response.status}${errorMessage(body)}`);
    return this.vectors(body, input.length, where);
  }

  private vectors(body: string, count: number, where: string): Float32Array[] {
    let data: unknown;
    try {
      data = (JSON.parse(body) as { data?: unknown }).data;
    } catch {
      throw new FeaturizerError(`${where}: the response is not JSON`);
    }
    if (!Array.isArray(data) || data.length !== count) throw new FeaturizerError(`${where}: response data: expected an array of ${count} embeddings`);
    const out = new Array<Float32Array>(count);
    data.forEach((item: { index?: unknown; embedding?: unknown }, i) => {
      const index = item?.index ?? i;
      const e = item?.embedding;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined) throw new FeaturizerError(`${where}: response data[${i}].index: expected a distinct integer from 0 to ${count - 1}`);
      if (!Array.isArray(e) || e.length === 0 || !e.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new FeaturizerError(`${where}: response data[${i}].embedding: expected an array of numbers (ask for encoding_format float)`);
      if (this.dim !== 0 && e.length !== this.dim) throw new FeaturizerError(`${where}: response data[${i}].embedding has ${e.length} dimensions; the router expects ${this.dim}`);
      out[index] = normalize(Float32Array.from(e as number[]));
    });
    return out;
  }
}

/** The OpenAI error message of a failed response, short, when there is one. */
function errorMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

function checkHttpParams(p: HttpParams): HttpParams {
  const problems: string[] = [];
  if (typeof p.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(p.url)) problems.push(`url: got ${JSON.stringify(p.url)}; expected an http(s) URL`);
  if (typeof p.model !== 'string' || p.model === '') problems.push(`model: got ${JSON.stringify(p.model)}; expected an embedding model name`);
  if (!Number.isInteger(p.dim) || p.dim < 0) problems.push(`dim: got ${JSON.stringify(p.dim)}; expected a positive integer`);
  if (!Number.isInteger(p.cacheSize) || p.cacheSize < 1) problems.push(`cacheSize: got ${JSON.stringify(p.cacheSize)}; expected an integer >= 1`);
  if (!Number.isInteger(p.timeoutMs) || p.timeoutMs < 1) problems.push(`timeoutMs: got ${JSON.stringify(p.timeoutMs)}; expected an integer >= 1 (milliseconds)`);
  if (!Number.isInteger(p.batchSize) || p.batchSize < 1) problems.push(`batchSize: got ${JSON.stringify(p.batchSize)}; expected an integer >= 1`);
  if (problems.length > 0) throw new FeaturizerError(`http featurizer: ${problems.join('; ')}`);
  return { url: p.url, model: p.model, dim: p.dim, cacheSize: p.cacheSize, timeoutMs: p.timeoutMs, batchSize: p.batchSize };
}
