// Renders a field reference (markdown) from a zod schema's JSON Schema, so the docs are
// generated from the same source as validation and never drift from it.
import { z } from 'zod';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  default: unknown;
  description: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (s.anyOf) {
    const keys = s.anyOf.map((o) => Object.keys(o.properties ?? {}).join('+'));
    return keys.every(Boolean) ? `one of: ${keys.join(', ')}` : s.anyOf.map(typeOf).join(' | ');
  }
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && s.properties) return 'object';
  if (s.type === 'object') return 'map of string';
  if (s.type === 'integer' || s.type === 'number') {
    const bounds: string[] = [];
    if (s.minimum !== undefined) bounds.push(`≥ ${s.minimum}`);
    if (s.exclusiveMinimum !== undefined) bounds.push(`> ${s.exclusiveMinimum}`);
    if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`≤ ${s.maximum}`);
    return bounds.length ? `${s.type} (${bounds.join(', ')})` : String(s.type);
  }
  return String(s.type ?? 'any');
}

function walk(schema: JsonSchema, path: string, required: boolean, rows: Row[]): void {
  if (path) rows.push({ path, type: typeOf(schema), required, default: schema.default, description: schema.description ?? '' });
  if (schema.properties) {
    for (const [key, child] of Object.entries(schema.properties)) {
      walk(child, path ? `${path}.${key}` : key, schema.required?.includes(key) ?? false, rows);
    }
  }
  if (schema.items) walk(schema.items, `${path}[]`, false, rows.length ? rows : []);
  if (schema.anyOf) {
    for (const option of schema.anyOf) {
      if (option.properties) {
        for (const [key, child] of Object.entries(option.properties)) walk(child, `${path}.${key}`, false, rows);
      }
    }
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderReference(schema: z.ZodType, title: string, intro: string): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  walk(json, '', true, rows);
  const lines = [
    `# ${title}`,
    '',
    intro,
    '',
    '<!-- Generated from the zod schema by `npm run docs`; a test fails when this file is stale. -->',
    '',
    '| field | type | required | default | description |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.path}\` | ${cell(r.type)} | ${r.required ? 'yes' : ''} | ${r.default === undefined ? '' : `\`${cell(JSON.stringify(r.default))}\``} | ${cell(r.description)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
