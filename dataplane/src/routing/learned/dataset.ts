// Training and evaluation data: parsed from text, validated, with errors that name the record.
import type { ModelPrice } from './artifact.js';

export interface RoutingExample {
  query: string;
  /** Observed quality per model, 0..1. */
  scores: Record<string, number>;
  /** Observed cost per model in USD, when the record carries it. */
  cost?: Record<string, number>;
}

export class DataError extends Error {}

/** Parses a JSON array or JSONL of {question|query, scores, cost?}. */
export function parseExamples(text: string, source = 'data'): RoutingExample[] {
  const trimmed = text.trim();
  if (trimmed === '') throw new DataError(`${source}: empty; expected a JSON array or JSONL of {"question", "scores"} records`);
  let raw: unknown[];
  if (trimmed.startsWith('[')) {
    try {
      raw = JSON.parse(trimmed) as unknown[];
    } catch (error) {
      throw new DataError(`${source}: not valid JSON: ${(error as Error).message}`);
    }
  } else {
    raw = trimmed.split('\n').flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line) as unknown];
      } catch (error) {
        throw new DataError(`${source}: line ${i + 1} is not valid JSON: ${(error as Error).message}`);
      }
    });
  }
  if (raw.length === 0) throw new DataError(`${source}: holds no records; expected at least one {"question", "scores"} record`);
  return raw.map((record, i) => parseExample(record, `${source}: record ${i}`));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseExample(record: unknown, where: string): RoutingExample {
  if (!isObject(record)) throw new DataError(`${where}: expected an object`);
  const query = record.question ?? record.query;
  if (typeof query !== 'string') throw new DataError(`${where}: "question" (or "query"): expected a string`);
  const scores = numberMap(record.scores, `${where}: scores`, 0, 1);
  if (Object.keys(scores).length === 0) throw new DataError(`${where}: scores: empty; expected {model: 0..1}`);
  const example: RoutingExample = { query, scores };
  if (record.cost !== undefined) example.cost = numberMap(record.cost, `${where}: cost`, 0, Infinity);
  return example;
}

function numberMap(value: unknown, where: string, min: number, max: number): Record<string, number> {
  if (!isObject(value)) throw new DataError(`${where}: expected an object {model: number}`);
  const out: Record<string, number> = {};
  for (const [model, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new DataError(`${where}.${model}: got ${JSON.stringify(v)}; expected a number from ${min} to ${max === Infinity ? 'any' : max}`);
    out[model] = v;
  }
  return out;
}

/** Parses the models.json shape: {name: {input_price, output_price, ...}}, USD per million tokens. */
export function parseModels(text: string, source = 'models'): Record<string, ModelPrice> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new DataError(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(raw) || Object.keys(raw).length === 0) throw new DataError(`${source}: expected a non-empty object {model: {input_price, output_price}}`);
  const prices: Record<string, ModelPrice> = {};
  for (const [name, entry] of Object.entries(raw)) {
    if (!isObject(entry)) throw new DataError(`${source}: ${name}: expected an object with input_price and output_price`);
    const input = entry.input_price;
    const output = entry.output_price;
    for (const [field, v] of [['input_price', input], ['output_price', output]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new DataError(`${source}: ${name}.${field}: got ${JSON.stringify(v)}; expected a price >= 0 in USD per million tokens`);
    }
    prices[name] = { input: input as number, output: output as number };
  }
  return prices;
}

/** The models the data scores, in first-seen order; every one must be priced. */
export function scoredModels(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, source = 'data'): string[] {
  const seen = new Set<string>();
  examples.forEach((example, i) => {
    for (const model of Object.keys(example.scores)) {
      if (!(model in prices)) throw new DataError(`${source}: record ${i}: scores names the model "${model}", which the models file does not list (known: ${Object.keys(prices).join(', ')})`);
      seen.add(model);
    }
  });
  return [...seen];
}

/** Cost of sending `example` to `model`: the record's own cost when present, else input + output price. */
export function choiceCost(example: RoutingExample, model: string, prices: Record<string, ModelPrice>): number {
  const own = example.cost?.[model];
  if (own !== undefined) return own;
  const price = prices[model];
  return price === undefined ? Infinity : price.input + price.output;
}
