// Rule head: keyword, regex and length rules that add quality boosts to each model's base
// quality. The rules are either written by hand (`--rules FILE`, see rule-set.ts) or mined from
// the training data: the word 1-2-grams whose presence moves the models' scores the most, plus
// length bands, with boosts fitted jointly by ridge regression on the rules' firing pattern.
// The artifact carries the rules as readable JSON in its header, so mined rules can be read,
// edited and loaded back as a hand-written file.
import type { Artifact, Tensor } from '../artifact.js';
import type { SparseVector } from '../sparse.js';
import { clamp01, modelMeans, numberParam, type RouterHead, type TrainingSet } from './head.js';
import { checkRuleModels, checkRuleSet, words, type Rule, type RuleSet } from './rule-set.js';

/** Keywords and regexes look at the first this many characters; length rules at the whole query. */
export const RULE_SCAN_CHARS = 4096;

export interface MiningParams {
  /** Keyword rules kept, the strongest first. */
  maxRules: number;
  /** Queries an n-gram must occur in to become a rule. */
  minSupport: number;
  /** Ridge penalty on the boosts. */
  alpha: number;
  /** Length bands (quantiles of the training queries' length); 0 or 1 for none. */
  lengthBands: number;
}

export const defaultMiningParams: MiningParams = { maxRules: 200, minSupport: 10, alpha: 5, lengthBands: 4 };

export function miningParams(raw: Record<string, unknown>): MiningParams {
  return {
    maxRules: numberParam(raw, 'maxRules', defaultMiningParams.maxRules, (v) => Number.isInteger(v) && v >= 0 && v <= 4096, 'an integer from 0 to 4096'),
    minSupport: numberParam(raw, 'minSupport', defaultMiningParams.minSupport, (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
    alpha: numberParam(raw, 'alpha', defaultMiningParams.alpha, (v) => v > 0, 'a number > 0'),
    lengthBands: numberParam(raw, 'lengthBands', defaultMiningParams.lengthBands, (v) => Number.isInteger(v) && v >= 0 && v <= 32, 'an integer from 0 to 32'),
  };
}

const MAX_PHRASE_WORDS = 8;

export class RulesHead implements RouterHead {
  readonly kind = 'rules';
  readonly readsFeatures = false;
  readonly modelCount: number;
  readonly rules: readonly Rule[];
  private readonly models: readonly string[];
  private readonly base: Float64Array;
  /** boosts[r * models + k]: rule r's boost for model k. */
  private readonly boosts: Float64Array;
  private readonly phrases = new Map<string, number[]>();
  private readonly longestPhrase: number;
  private readonly regexes: (RegExp | null)[];
  private readonly keywordHit: Uint8Array;
  private readonly mining: MiningParams | null;

  constructor(set: RuleSet, models: readonly string[], base: Float64Array, mining: MiningParams | null = null) {
    checkRuleModels(set, models);
    this.models = models;
    this.modelCount = models.length;
    this.rules = set.rules;
    this.mining = mining;
    this.base = Float64Array.from(base);
    models.forEach((model, k) => {
      const q = set.base?.[model];
      if (q !== undefined) this.base[k] = q;
    });
    this.boosts = new Float64Array(set.rules.length * models.length);
    let longest = 0;
    set.rules.forEach((rule, r) => {
      models.forEach((model, k) => (this.boosts[r * models.length + k] = rule.boost[model] ?? 0));
      for (const keyword of rule.keywords ?? []) {
        const phrase = words(keyword).slice(0, MAX_PHRASE_WORDS);
        longest = Math.max(longest, phrase.length);
        const key = phrase.join(' ');
        const list = this.phrases.get(key);
        if (list === undefined) this.phrases.set(key, [r]);
        else if (!list.includes(r)) list.push(r);
      }
    });
    this.longestPhrase = longest;
    this.regexes = set.rules.map((rule) => (rule.regex === undefined ? null : new RegExp(rule.regex, 'i')));
    this.keywordHit = new Uint8Array(set.rules.length);
  }

  static train(set: TrainingSet, raw: Record<string, unknown> = {}): RulesHead {
    const base = modelMeans(set);
    if (raw.rules !== undefined) return new RulesHead(checkRuleSet({ base: raw.base, rules: raw.rules }), set.models, base);
    if (set.queries === undefined) throw new Error('the rules head needs the training queries to mine rules from');
    const p = miningParams(raw);
    return new RulesHead(mineRules(set, set.queries, base, p), set.models, base, p);
  }

  static load(artifact: Artifact): RulesHead {
    const params = artifact.header.head.params;
    const set = checkRuleSet({ base: params.base, rules: params.rules }, 'router artifact rules');
    const models = artifact.header.models;
    const base = Float64Array.from(models, (m) => set.base?.[m] ?? 0.5);
    return new RulesHead(set, models, base, params.mining === undefined ? null : miningParams(params.mining as Record<string, unknown>));
  }

  /** Indices of the rules that fire on `query`, in rule order. */
  fired(query: string): number[] {
    const out: number[] = [];
    this.forEachFired(query, (r) => out.push(r));
    return out;
  }

  private forEachFired(query: string, visit: (rule: number) => void): void {
    const scan = query.length > RULE_SCAN_CHARS ? query.slice(0, RULE_SCAN_CHARS) : query;
    const hit = this.keywordHit;
    if (this.longestPhrase > 0) {
      const tokens = words(scan);
      for (let i = 0; i < tokens.length; i++) {
        let phrase = '';
        for (let len = 1; len <= this.longestPhrase && i + len <= tokens.length; len++) {
          phrase = len === 1 ? tokens[i]! : `${phrase} ${tokens[i + len - 1]!}`;
          const rules = this.phrases.get(phrase);
          if (rules !== undefined) for (const r of rules) hit[r] = 1;
        }
      }
    }
    const length = query.length;
    this.rules.forEach((rule, r) => {
      const keywordsHold = rule.keywords === undefined || hit[r] === 1;
      hit[r] = 0;
      if (!keywordsHold) return;
      if (rule.minChars !== undefined && length < rule.minChars) return;
      if (rule.maxChars !== undefined && length > rule.maxChars) return;
      const regex = this.regexes[r]!;
      if (regex !== null && !regex.test(scan)) return;
      visit(r);
    });
  }

  predict(_x: SparseVector, out: Float64Array, query = ''): void {
    const m = this.modelCount;
    for (let k = 0; k < m; k++) out[k] = this.base[k]!;
    this.forEachFired(query, (r) => {
      for (let k = 0; k < m; k++) out[k]! += this.boosts[r * m + k]!;
    });
    for (let k = 0; k < m; k++) out[k] = clamp01(out[k]!);
  }

  tensors(): Tensor[] {
    return [];
  }

  params(): Record<string, unknown> {
    const base: Record<string, number> = {};
    this.models.forEach((model, k) => (base[model] = this.base[k]!));
    return { base, rules: this.rules, ...(this.mining === null ? {} : { mining: { ...this.mining } }) };
  }
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** Mines keyword and length rules from scored queries and fits their boosts. */
export function mineRules(set: TrainingSet, queries: readonly string[], base: Float64Array, p: MiningParams): RuleSet {
  const m = set.models.length;
  const n = queries.length;
  const grams = queries.map((q) => ngrams(q.length > RULE_SCAN_CHARS ? q.slice(0, RULE_SCAN_CHARS) : q));
  const df = new Map<string, number>();
  for (const doc of grams) for (const g of doc) df.set(g, (df.get(g) ?? 0) + 1);
  // Per candidate n-gram: sum and count of each model's scores over the queries containing it.
  const stats = new Map<string, Float64Array>();
  for (const [g, count] of df) if (count >= p.minSupport && count <= n / 2) stats.set(g, new Float64Array(2 * m));
  const total = new Float64Array(2 * m);
  grams.forEach((doc, r) => {
    for (let k = 0; k < m; k++) {
      const y = set.targets[r * m + k]!;
      if (Number.isNaN(y)) continue;
      total[k]! += y;
      total[m + k]! += 1;
    }
    for (const g of doc) {
      const s = stats.get(g);
      if (s === undefined) continue;
      for (let k = 0; k < m; k++) {
        const y = set.targets[r * m + k]!;
        if (Number.isNaN(y)) continue;
        s[k]! += y;
        s[m + k]! += 1;
      }
    }
  });
  // Rank by the between-group sum of squares: how much knowing the n-gram explains.
  const ranked = [...stats].map(([g, s]) => {
    let gain = 0;
    for (let k = 0; k < m; k++) {
      const inN = s[m + k]!;
      const outN = total[m + k]! - inN;
      if (inN === 0 || outN === 0) continue;
      const diff = s[k]! / inN - (total[k]! - s[k]!) / outN;
      gain += (diff * diff * inN * outN) / (inN + outN);
    }
    return { g, gain };
  });
  ranked.sort((a, b) => b.gain - a.gain || (a.g < b.g ? -1 : 1));
  const rules: Rule[] = ranked.slice(0, p.maxRules).map(({ g }) => ({ name: `mined "${g}"`, keywords: [g], boost: {} }));
  rules.push(...lengthBands(queries, p.lengthBands));
  // Boosts: ridge regression of (score - base) on the rules' 0/1 firing pattern, for all models at once.
  const probe = new RulesHead({ rules: rules.map((r) => ({ ...r, boost: { [set.models[0]!]: 0 } })) }, set.models, base);
  const R = rules.length;
  const gram = new Float64Array(R * R);
  const rhs = new Float64Array(R * m);
  queries.forEach((q, r) => {
    const fired = probe.fired(q);
    for (const a of fired) {
      for (const b of fired) gram[a * R + b]! += 1;
      for (let k = 0; k < m; k++) {
        const y = set.targets[r * m + k]!;
        if (!Number.isNaN(y)) rhs[a * m + k]! += y - base[k]!;
      }
    }
  });
  for (let a = 0; a < R; a++) gram[a * R + a]! += p.alpha;
  const boosts = solveSymmetric(gram, rhs, R, m);
  rules.forEach((rule, a) => {
    set.models.forEach((model, k) => {
      const b = round4(Math.max(-1, Math.min(1, boosts[a * m + k]!)));
      if (b !== 0) rule.boost[model] = b;
    });
    if (Object.keys(rule.boost).length === 0) rule.boost[set.models[0]!] = 0;
  });
  const baseOut: Record<string, number> = {};
  set.models.forEach((model, k) => (baseOut[model] = round4(base[k]!)));
  return { base: baseOut, rules };
}

function ngrams(text: string): Set<string> {
  const w = words(text);
  const out = new Set<string>(w);
  for (let i = 0; i + 1 < w.length; i++) out.add(`${w[i]} ${w[i + 1]}`);
  return out;
}

function lengthBands(queries: readonly string[], bands: number): Rule[] {
  if (bands < 2) return [];
  const lengths = queries.map((q) => q.length).sort((a, b) => a - b);
  const cuts = [...new Set(Array.from({ length: bands - 1 }, (_, i) => lengths[Math.floor(((i + 1) * lengths.length) / bands)]!))];
  const out: Rule[] = [];
  let lo = 0;
  for (const cut of cuts) {
    if (cut <= lo) continue;
    out.push({ name: `length ${lo}..${cut - 1}`, ...(lo > 0 ? { minChars: lo } : {}), maxChars: cut - 1, boost: {} });
    lo = cut;
  }
  out.push({ name: `length >= ${lo}`, minChars: lo, boost: {} });
  return out;
}

/** Solves A X = B for a symmetric positive-definite A (size x size) by Cholesky; B has `cols` columns. */
function solveSymmetric(a: Float64Array, b: Float64Array, size: number, cols: number): Float64Array {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * size + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * size + k]! * l[j * size + k]!;
      l[i * size + j] = i === j ? Math.sqrt(sum) : sum / l[j * size + j]!;
    }
  }
  const x = Float64Array.from(b);
  for (let c = 0; c < cols; c++) {
    for (let i = 0; i < size; i++) {
      let sum = x[i * cols + c]!;
      for (let k = 0; k < i; k++) sum -= l[i * size + k]! * x[k * cols + c]!;
      x[i * cols + c] = sum / l[i * size + i]!;
    }
    for (let i = size - 1; i >= 0; i--) {
      let sum = x[i * cols + c]!;
      for (let k = i + 1; k < size; k++) sum -= l[k * size + i]! * x[k * cols + c]!;
      x[i * cols + c] = sum / l[i * size + i]!;
    }
  }
  return x;
}
