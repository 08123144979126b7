// What the mock says, independent of wire format: deterministic text tokens, tool-call
// arguments built from a JSON schema, prompt token estimates and embedding vectors.
import { arrayField, isObject, objectField, stringField, type JsonObject } from './json.js';
import { seededRandom } from '../seeded-random.js';
import { fnv1a } from './prng.js';

const VOCABULARY = [
  'This', ' is', ' the', ' Switch', 'board', ' mock', ' provider', ' speaking', ':', ' every', ' word',
  ' here', ' is', ' one', ' token', ',', ' the', ' same', ' on', ' every', ' run', '.',
];

/** A reply of plain text: the tokens in order, each also JSON-encoded for cheap streaming. */
export interface TextReply {
  kind: 'text';
  tokens: readonly string[];
  /** `JSON.stringify(token)` for each token. */
  jsonTokens: readonly string[];
  text: string;
  /** True when max_tokens cut the reply short. */
  truncated: boolean;
}

/** A reply that calls one tool; `pieces` are the argument text as streamed, one per token. */
export interface ToolReply {
  kind: 'tool';
  id: string;
  name: string;
  input: JsonObject;
  arguments: string;
  pieces: readonly string[];
}

export type Reply = TextReply | ToolReply;

const textCache = new Map<number, Omit<TextReply, 'truncated'>>();

/** The text reply of `count` tokens (cached: the benchmark path builds no strings per request). */
export function mockText(count: number): Omit<TextReply, 'truncated'> {
  let reply = textCache.get(count);
  if (reply === undefined) {
    const tokens = Array.from({ length: count }, (_, i) => VOCABULARY[i % VOCABULARY.length] ?? '');
    reply = { kind: 'text', tokens, jsonTokens: tokens.map((t) => JSON.stringify(t)), text: tokens.join('') };
    if (textCache.size < 256) textCache.set(count, reply);
  }
  return reply;
}

/** Plans a text reply: `responseTokens`, capped by the request's max tokens if given. */
export function planText(responseTokens: number, maxTokens: number | undefined): TextReply {
  const count = maxTokens !== undefined && maxTokens < responseTokens ? Math.max(0, Math.floor(maxTokens)) : responseTokens;
  return { ...mockText(count), truncated: count < responseTokens };
}

/** Plans a tool call whose arguments satisfy the `required` properties of `schema`. */
export function planTool(id: string, name: string, schema: JsonObject | undefined): ToolReply {
  const input = schema ? objectFromSchema(schema) : {};
  const args = JSON.stringify(input);
  return { kind: 'tool', id, name, input, arguments: args, pieces: splitPieces(args, 4) };
}

/** Tokens the reply emits (what usage reports as completion / output tokens). */
export function replyTokens(reply: Reply): number {
  return reply.kind === 'text' ? reply.tokens.length : reply.pieces.length;
}

/** Splits text into pieces of at most `size` characters (at least one piece). */
export function splitPieces(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length > 0 ? pieces : [''];
}

/** A value for a JSON schema: string "mock", number/integer 1, boolean true, objects recursively. */
export function valueFromSchema(schema: unknown): unknown {
  if (!isObject(schema)) return 'mock';
  const enumValues = arrayField(schema, 'enum');
  if (enumValues && enumValues.length > 0) return enumValues[0];
  if ('const' in schema) return schema.const;
  const typeValue = schema.type;
  const type = Array.isArray(typeValue) ? typeValue.find((t) => t !== 'null') : typeValue;
  switch (type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'object':
      return objectFromSchema(schema);
    case 'array':
      return [];
    case 'null':
      return null;
    default:
      return 'mock';
  }
}

function objectFromSchema(schema: JsonObject): JsonObject {
  const properties = objectField(schema, 'properties') ?? {};
  const required = arrayField(schema, 'required') ?? [];
  const out: JsonObject = {};
  for (const key of required) {
    if (typeof key === 'string') out[key] = valueFromSchema(properties[key]);
  }
  return out;
}

/** Tokens for `chars` characters of prompt text: ceil(chars / 4). */
export function tokensForChars(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Characters of text in a message `content`: a string or an array of parts carrying `text`. */
export function contentChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let chars = 0;
  for (const part of content) {
    if (typeof part === 'string') chars += part.length;
    else if (isObject(part)) {
      chars += stringField(part, 'text')?.length ?? 0;
      // Anthropic tool_result blocks nest their content.
      if ('content' in part) chars += contentChars(part.content);
    }
  }
  return chars;
}

/** Characters of text over a list of messages (`{content}` objects). */
export function messagesChars(messages: readonly unknown[]): number {
  let chars = 0;
  for (const message of messages) if (isObject(message)) chars += contentChars(message.content);
  return chars;
}

/** A deterministic unit vector for `input`: the same input always maps to the same vector. */
export function embeddingVector(input: string, dimensions: number): Float32Array {
  const random = seededRandom(fnv1a(input));
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = random() * 2 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

/** Little-endian float32 bytes in base64, as OpenAI returns for `encoding_format: "base64"`. */
export function vectorBase64(vector: Float32Array): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] ?? 0, i * 4);
  return bytes.toString('base64');
}
