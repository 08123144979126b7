// The built-in featurizer: hashed word and character n-grams weighted by TF-IDF and
// L2-normalised. Deterministic, needs no model files, and costs microseconds per query.
import type { Tensor } from './artifact.js';
import type { SparseVector } from './sparse.js';

export interface HashedFeaturizerParams {
  /** Number of hash buckets; a power of two. */
  dim: number;
  /** Word n-gram lengths, inclusive range [min, max]; [0, 0] turns words off. */
  wordNgrams: [number, number];
  /** Character n-gram lengths inside word boundaries, inclusive range; [0, 0] turns them off. */
  charNgrams: [number, number];
  /** Use 1 + ln(tf) instead of the raw count. */
  sublinearTf: boolean;
  /** Longest query prefix featurized, in UTF-16 code units; bounds the cost of huge prompts. */
  maxChars: number;
}

export const defaultHashedParams: HashedFeaturizerParams = {
  dim: 1 << 14,
  wordNgrams: [1, 2],
  charNgrams: [3, 4],
  sublinearTf: true,
  // Longer prompts add latency but no routing accuracy in 5-fold cross-validation (docs/learned-routing.md).
  maxChars: 1024,
};

/** What the artifact header records about a featurizer, so a loaded router rebuilds the same one. */
export interface FeaturizerRecord {
  type: string;
  /** Always holds `dim`, the length of the feature vectors the head reads. */
  params: Record<string, unknown>;
}

/** In-process and synchronous (hashed): the gateway's fast path. */
export interface SyncFeaturizer {
  readonly sync: true;
  readonly type: string;
  readonly dim: number;
  featurize(text: string): SparseVector;
  record(): FeaturizerRecord;
  /** Fitted state stored in the artifact payload (hashed: the IDF). */
  tensors(): Tensor[];
}

/** An embedding model (onnx) or service (http): one query at a time, or many for training. */
export interface AsyncFeaturizer {
  readonly sync: false;
  readonly type: string;
  readonly dim: number;
  featurize(text: string): Promise<SparseVector>;
  featurizeMany(texts: readonly string[]): Promise<SparseVector[]>;
  record(): FeaturizerRecord;
}

export type Featurizer = SyncFeaturizer | AsyncFeaturizer;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const NON_ASCII_WORD = /[\p{L}\p{N}]/u;
/** 1 + ln(tf) for small counts, the common case. */
const LOG_TABLE = Float64Array.from({ length: 64 }, (_, tf) => (tf === 0 ? 0 : 1 + Math.log(tf)));

function isWordChar(code: number, text: string, i: number): boolean {
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95;
  return NON_ASCII_WORD.test(text[i]!);
}

function mix(h: number, code: number): number {
  return Math.imul(h ^ code, FNV_PRIME);
}

/** Final avalanche (murmur3 fmix32) so nearby n-grams spread over the buckets. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function validateHashedParams(p: HashedFeaturizerParams): void {
  const problems: string[] = [];
  if (!Number.isInteger(p.dim) || p.dim < 2 || (p.dim & (p.dim - 1)) !== 0 || p.dim > 1 << 24) problems.push(`dim: got ${p.dim}; expected a power of two from 2 to 2^24`);
  for (const [name, [lo, hi]] of [['wordNgrams', p.wordNgrams], ['charNgrams', p.charNgrams]] as const) {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < lo || hi > 8 || (lo === 0 && hi !== 0)) problems.push(`${name}: got [${lo}, ${hi}]; expected [0, 0] or 1 <= min <= max <= 8`);
  }
  if (!Number.isInteger(p.maxChars) || p.maxChars < 1) problems.push(`maxChars: got ${p.maxChars}; expected a positive integer`);
  if (problems.length > 0) throw new Error(`hashed featurizer: ${problems.join('; ')}`);
}

/**
 * Counts hashed n-grams into a reusable dense scratch buffer, marking each touched bucket in a
 * bitset so the sorted indices come out of one short scan (dim / 32 words), with no sort.
 * Not re-entrant, which is fine on one JavaScript thread.
 */
export class HashedFeaturizer implements SyncFeaturizer {
  readonly sync = true;
  readonly type = 'hashed';
  readonly dim: number;
  readonly params: HashedFeaturizerParams;
  /** Inverse document frequency per bucket; all ones until fitted. */
  readonly idf: Float32Array;
  private readonly counts: Int32Array;
  /** Bit j % 32 of word j >>> 5 is set when bucket j has a count. */
  private readonly touched: Int32Array;
  private touchedCount = 0;
  private readonly mask: number;
  private readonly recent: Int32Array;
  private readonly word: Uint16Array;

  constructor(params: HashedFeaturizerParams = defaultHashedParams, idf?: Float32Array) {
    validateHashedParams(params);
    this.params = params;
    this.dim = params.dim;
    this.mask = params.dim - 1;
    if (idf !== undefined && idf.length !== params.dim) throw new Error(`hashed featurizer: idf has ${idf.length} entries; expected dim = ${params.dim}`);
    this.idf = idf ?? new Float32Array(params.dim).fill(1);
    this.counts = new Int32Array(params.dim);
    this.touched = new Int32Array(Math.ceil(params.dim / 32));
    this.recent = new Int32Array(Math.max(params.wordNgrams[1], 1));
    this.word = new Uint16Array(params.maxChars + 2);
  }

  /** Fits the IDF on a corpus (smoothed as in scikit-learn: ln((1+n)/(1+df)) + 1). */
  static fit(texts: readonly string[], params: HashedFeaturizerParams = defaultHashedParams): HashedFeaturizer {
    const featurizer = new HashedFeaturizer(params);
    const df = new Float64Array(params.dim);
    const touched = new Int32Array(params.dim);
    for (const text of texts) {
      featurizer.count(text);
      const k = featurizer.drain(touched);
      for (let i = 0; i < k; i++) {
        const j = touched[i]!;
        df[j]! += 1;
        featurizer.counts[j] = 0;
      }
    }
    const n = texts.length;
    for (let j = 0; j < params.dim; j++) featurizer.idf[j] = Math.log((1 + n) / (1 + df[j]!)) + 1;
    return featurizer;
  }

  record(): FeaturizerRecord {
    return { type: this.type, params: { ...this.params } };
  }

  tensors(): Tensor[] {
    return [{ name: 'featurizer.idf', shape: [this.dim], data: this.idf }];
  }

  featurize(text: string): SparseVector {
    this.count(text);
    const indices = new Int32Array(this.touchedCount);
    const k = this.drain(indices);
    const values = new Float32Array(k);
    const { counts, idf } = this;
    const sublinear = this.params.sublinearTf;
    let norm = 0;
    for (let i = 0; i < k; i++) {
      const j = indices[i]!;
      const tf = counts[j]!;
      counts[j] = 0;
      const v = (sublinear ? (tf < LOG_TABLE.length ? LOG_TABLE[tf]! : 1 + Math.log(tf)) : tf) * idf[j]!;
      values[i] = v;
      norm += v * v;
    }
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let i = 0; i < k; i++) values[i]! *= scale;
    }
    return { indices, values };
  }

  private add(hash: number): void {
    const j = finish(hash) & this.mask;
    if (this.counts[j] === 0) {
      this.touched[j >>> 5]! |= 1 << (j & 31);
      this.touchedCount++;
    }
    this.counts[j]! += 1;
  }

  /** Writes the touched buckets to `indices` in ascending order and clears their marks; returns how many. The counts stay. */
  private drain(indices: Int32Array): number {
    const k = this.touchedCount;
    const words = this.touched;
    let i = 0;
    for (let w = 0; i < k; w++) {
      let bits = words[w]!;
      if (bits === 0) continue;
      words[w] = 0;
      do {
        const low = bits & -bits;
        indices[i++] = (w << 5) | (31 - Math.clz32(low));
        bits ^= low;
      } while (bits !== 0);
    }
    this.touchedCount = 0;
    return k;
  }

  private count(raw: string): void {
    const text = (raw.length > this.params.maxChars ? raw.slice(0, this.params.maxChars) : raw).toLowerCase();
    const [wordLo, wordHi] = this.params.wordNgrams;
    const [charLo, charHi] = this.params.charNgrams;
    const recent = this.recent; // hashes of the last few words, newest last
    const last = recent.length - 1;
    const word = this.word; // " word " as char codes, for char n-grams
    let words = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      if (!isWordChar(text.charCodeAt(i), text, i)) {
        i++;
        continue;
      }
      let h = FNV_OFFSET;
      let length = 0;
      word[0] = 32;
      for (let code = text.charCodeAt(i); i < n && isWordChar(code, text, i); code = text.charCodeAt(++i)) {
        h = mix(h, code);
        word[++length] = code;
      }
      word[length + 1] = 32;
      if (wordHi > 0) {
        for (let w = 0; w < last; w++) recent[w] = recent[w + 1]!;
        recent[last] = h;
        words++;
        for (let len = wordLo; len <= wordHi && len <= words; len++) {
          let g = mix(FNV_OFFSET, 0x57 + len); // namespace: word n-grams of this length
          for (let w = last + 1 - len; w <= last; w++) g = mix(mix(g, recent[w]! & 0xffff), recent[w]! >>> 16);
          this.add(g);
        }
      }
      if (charHi > 0) this.charGrams(length + 2, charLo, charHi);
    }
  }

  /** Character n-grams of " word " (padded with boundary marks), like scikit-learn's char_wb. */
  private charGrams(padded: number, lo: number, hi: number): void {
    const word = this.word;
    // Grow each n-gram one character at a time from its start; emit it at every wanted length.
    for (let s = 0; s + lo <= padded; s++) {
      let g = FNV_OFFSET;
      for (let c = s; c < s + hi && c < padded; c++) {
        g = mix(g, word[c]!);
        const len = c - s + 1;
        if (len >= lo) this.add(mix(g, 0x43 + len)); // namespace: char n-grams of this length
      }
    }
  }
}
