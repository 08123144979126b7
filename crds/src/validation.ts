// Turns zod issues into messages a user can act on: the path, the value found, what was expected.
import type { z } from 'zod';

export interface FieldError {
  /** Dotted path with indexes, e.g. `models[0].deployments[1].baseUrl`. */
  path: string;
  /** The offending value as found in the input (undefined when missing). */
  value: unknown;
  /** What was expected. */
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union') return 'exactly one of the allowed forms (see the reference)';
  if (issue.code === 'invalid_value') return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  // zod says "Invalid input: expected array, received number"; the value is printed already.
  return issue.message
    .replace(/^Invalid input: /, '')
    .replace(/^expected /, '')
    .replace(/, received \w+$/, '')
    .replace(/^Invalid string: must match pattern .*$/, 'a value matching the documented format');
}

export function toFieldErrors(error: z.ZodError, input: unknown): FieldError[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    value: valueAt(input, issue.path),
    message: expectation(issue),
  }));
}

/** One line per error: `models[0].weight: got -1; expected a number >= 0`. */
export function formatFieldErrors(errors: FieldError[], source?: string): string {
  const prefix = source ? `${source}: ` : '';
  return errors.map((e) => `${prefix}${e.path}: got ${describeValue(e.value)}; expected ${e.message}`).join('\n');
}

export function validate<S extends z.ZodType>(schema: S, input: unknown): Validated<z.output<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, errors: toFieldErrors(result.error, input) };
}
