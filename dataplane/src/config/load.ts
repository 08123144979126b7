// Reads the runtime config from a YAML or JSON file and validates it against the schema.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { RuntimeConfig, formatFieldErrors, validate } from '@switchboard/crds/runtime';

export type LoadResult = { ok: true; config: RuntimeConfig; text: string } | { ok: false; message: string };

/** Parses config text (YAML is a superset of JSON, so one parser reads both). */
export function parseConfigText(text: string, source: string): LoadResult {
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    return { ok: false, message: `${source}: not valid YAML or JSON: ${(error as Error).message}` };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, message: `${source}: (root): got ${Array.isArray(data) ? 'an array' : JSON.stringify(data ?? null)}; expected a mapping with a "models" list` };
  }
  const result = validate(RuntimeConfig, data);
  if (!result.ok) return { ok: false, message: formatFieldErrors(result.errors, source) };
  return { ok: true, config: result.value, text };
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, message: `${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  return parseConfigText(text, path);
}
