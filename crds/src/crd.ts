// Turns a zod spec/status schema into a CustomResourceDefinition (apiextensions.k8s.io/v1), so the
// CRD's OpenAPI schema, its CEL rules and `kubectl explain` come from the same source as the
// operator's parser. Cross-field rules are written once (`withRules`): as CEL for the apiserver and
// as a TypeScript predicate for zod, so both reject the same objects with the same message.
import { stringify } from 'yaml';
import { z } from 'zod';

/** A CEL rule for `x-kubernetes-validations`, with its TypeScript twin for zod. */
export interface CelRule<T> {
  /** CEL expression over `self` (and `oldSelf` for transition rules); true means valid. */
  rule: string;
  /** Shown to the user by the apiserver and by zod. */
  message: string;
  /** Field the error is reported on, relative to the object carrying the rule. */
  path?: string[];
  /** The same rule in TypeScript, evaluated on the parsed (defaulted) value. */
  holds: (value: T) => boolean;
}

/** One `x-kubernetes-validations` entry as the apiserver reads it. */
export interface ValidationRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** Attaches cross-field rules to an object schema: CEL in the CRD, a refinement in zod. */
export function withRules<S extends z.ZodType>(schema: S, rules: Array<CelRule<z.output<S>>>): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      let holds: boolean;
      try {
        holds = r.holds(value);
      } catch {
        holds = true; // a field the rule reads is invalid itself, and reported as such
      }
      if (!holds) ctx.addIssue({ code: 'custom', message: r.message, path: r.path ?? [] });
    }
  });
  const validations: ValidationRule[] = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.path ? { fieldPath: r.path.map((p) => `.${p}`).join('') } : {}),
  }));
  const meta = z.globalRegistry.get(schema) ?? {};
  const earlier = (meta['x-kubernetes-validations'] as ValidationRule[] | undefined) ?? [];
  return refined.meta({ ...meta, 'x-kubernetes-validations': [...earlier, ...validations] }) as S;
}

/** Reports every element whose identity (`id`) an earlier element already had. */
function uniqueBy<S extends z.ZodType>(schema: S, id: (item: unknown) => string, what: string): S {
  return schema.superRefine((value, ctx) => {
    if (!Array.isArray(value)) return;
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const key = id(item);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `duplicate ${what} ${key}`, path: [i] });
      seen.add(key);
    });
  });
}

/** Kubernetes list semantics: `map` lists are keyed (duplicates rejected, merged per key by SSA). */
export function listMap<S extends z.ZodType>(schema: S, ...keys: string[]): S {
  const meta = z.globalRegistry.get(schema) ?? {};
  const identity = (item: unknown): string => JSON.stringify(keys.map((k) => (item as Record<string, unknown>)[k]));
  return uniqueBy(schema, identity, keys.join('+')).meta({ ...meta, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys }) as S;
}

/** Kubernetes list semantics: `set` lists reject duplicate scalars. */
export function listSet<S extends z.ZodType>(schema: S): S {
  const meta = z.globalRegistry.get(schema) ?? {};
  return uniqueBy(schema, (item) => JSON.stringify(item), 'value').meta({ ...meta, 'x-kubernetes-list-type': 'set' }) as S;
}

/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps that the generator emits. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: ValidationRule[];
}

/** JSON Schema (draft 2020-12) as `z.toJSONSchema` writes it; only what the conversion reads. */
type JsonSchema = Record<string, unknown> & {
  type?: string;
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

const INT32 = 2 ** 31 - 1;
// Keywords the apiserver does not know or that a structural schema must not carry.
const DROPPED = new Set(['$schema', '$id', 'id', 'propertyNames', 'contentEncoding', 'const', 'oneOf']);

function joinOr(items: string[]): string {
  return items.length <= 2 ? items.join(' or ') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** `anyOf` of object alternatives → one object with every property, plus CEL for exactly-one-of. */
function mergeObjectUnion(node: JsonSchema, branches: JsonSchema[], path: string): JSONSchemaProps {
  const keysOf = branches.map((b) => Object.keys(b.properties ?? {}));
  const properties: Record<string, JSONSchemaProps> = {};
  for (const b of branches) {
    for (const [key, child] of Object.entries(b.properties ?? {})) properties[key] ??= toStructural(child, `${path}.${key}`);
  }
  const unique = keysOf.map((keys, i) => keys.filter((k) => keysOf.every((other, j) => j === i || !other.includes(k))));
  const representatives = branches.map((b, i) => {
    const rep = (b.required ?? []).find((k) => unique[i]!.includes(k)) ?? unique[i]![0];
    if (!rep) throw new Error(`${path}: union alternative ${i} has no property of its own, so CEL cannot tell it apart`);
    return rep;
  });
  const rules: ValidationRule[] = [
    {
      rule: `[${representatives.map((k) => `has(self.${k})`).join(', ')}].exists_one(x, x)`,
      message: `exactly one of ${joinOr(representatives)} must be set`,
    },
  ];
  branches.forEach((b, i) => {
    const rep = representatives[i]!;
    for (const key of unique[i]!.filter((k) => k !== rep)) {
      if (b.required?.includes(key)) rules.push({ rule: `!has(self.${rep}) || has(self.${key})`, message: `${key} is required with ${rep}`, fieldPath: `.${key}` });
      rules.push({ rule: `!has(self.${key}) || has(self.${rep})`, message: `${key} is only allowed with ${rep}`, fieldPath: `.${key}` });
    }
  });
  const required = branches.map((b) => b.required ?? []).reduce((acc, r) => acc.filter((k) => r.includes(k)));
  const out: JSONSchemaProps = { type: 'object', properties };
  if (required.length) out.required = required;
  const outer = toStructural({ ...node, anyOf: undefined, oneOf: undefined, type: 'object' }, path);
  delete outer.properties;
  const own = outer['x-kubernetes-validations'] ?? [];
  return { ...outer, ...out, 'x-kubernetes-validations': [...rules, ...own] };
}

/** Converts `z.toJSONSchema` output into a structural schema the apiserver accepts. */
export function toStructural(node: JsonSchema, path = ''): JSONSchemaProps {
  const union = node.anyOf ?? node.oneOf;
  if (union) {
    if (union.every((b) => b.type === 'object' && b.properties)) return mergeObjectUnion(node, union, path);
    const types = union.map((b) => b.type).sort();
    if (types.length === 2 && types[0] === 'integer' && types[1] === 'string') {
      // Structural int-or-string carries no typed branches; pattern only checks strings and
      // minimum only numbers, so the branches' checks merge without changing their meaning.
      const { anyOf: _a, oneOf: _o, ...rest } = node;
      const merged: JSONSchemaProps = { ...toStructural(rest, path), 'x-kubernetes-int-or-string': true };
      for (const b of union) {
        const { type: _t, description: _d, format: _f, ...checks } = toStructural(b, path);
        Object.assign(merged, checks);
      }
      return merged;
    }
    throw new Error(`${path || '(root)'}: unions other than objects or int-or-string have no structural form`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key) || value === undefined) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, toStructural(v, `${path}.${k}`)]));
    } else if (key === 'items') {
      out.items = toStructural(value as JsonSchema, `${path}[]`);
    } else if (key === 'additionalProperties') {
      if (typeof value === 'object') out.additionalProperties = toStructural(value as JsonSchema, `${path}{}`);
    } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') {
      out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      out[key] = true;
    } else {
      out[key] = value;
    }
  }
  if (node.const !== undefined) out.enum = [node.const];
  if (node.type === 'integer' || node.type === 'number') {
    for (const bound of ['minimum', 'maximum'] as const) {
      if (typeof out[bound] === 'number' && Math.abs(out[bound]) >= Number.MAX_SAFE_INTEGER) delete out[bound];
    }
  }
  if (node.type === 'integer' && out.format === undefined) {
    const fits = [out.minimum, out.maximum].every((b) => typeof b === 'number' && Math.abs(b) <= INT32);
    out.format = fits ? 'int32' : 'int64';
  }
  if (node.type === 'number' && out.format === 'double') delete out.format;
  return out as JSONSchemaProps;
}

/** Converts a zod schema (its input side: defaults shown, defaulted fields optional). */
export function openApiSchema(schema: z.ZodType): JSONSchemaProps {
  return toStructural(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonSchema);
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: true;
      storage: true;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
}

export function customResourceDefinition(def: CrdDefinition): CustomResourceDefinition {
  const openAPIV3Schema: JSONSchemaProps = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: { type: 'string', description: 'Versioned schema of this object: switchboard.dev/v1alpha1.' },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      metadata: { type: 'object' },
      spec: openApiSchema(def.spec),
      status: openApiSchema(def.status),
    },
    required: ['spec'],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}`, labels: { 'app.kubernetes.io/part-of': 'switchboard' } },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

/** The CRD as checked-in YAML, with a header saying where it comes from. YAML 1.1 quoting, as
 *  kubectl reads YAML 1.1: an unquoted `n` or `on` would become a boolean. */
export function renderCrdYaml(crd: CustomResourceDefinition, source: string): string {
  return `# Generated from ${source} by \`npm run crds\`; do not edit (a test fails when it is stale).\n${stringify(crd, { lineWidth: 0, version: '1.1' })}`;
}

/** Every `x-kubernetes-validations` rule in a schema, by dotted path (for docs and tests). */
export function validationRules(schema: JSONSchemaProps, path = ''): Array<{ path: string } & ValidationRule> {
  const here = (schema['x-kubernetes-validations'] ?? []).map((v) => ({ path: path || '(root)', ...v }));
  const nested = [
    ...Object.entries(schema.properties ?? {}).flatMap(([k, v]) => validationRules(v, path ? `${path}.${k}` : k)),
    ...(schema.items ? validationRules(schema.items, `${path}[]`) : []),
  ];
  return [...here, ...nested];
}
