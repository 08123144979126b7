// The rule file a platform team writes by hand (JSON or YAML), also the form mined rules take
// in the artifact: when a rule's conditions all hold, its boosts are added to the models'
// base quality.
import { formatFieldErrors, validate } from '@switchboard/crds/runtime';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const quality = z.number().min(0).max(1);

const ruleSchema = z
  .strictObject({
    name: z.string().min(1).describe('Shown in docs and explanations.'),
    keywords: z.array(z.string().min(1)).min(1).optional().describe('Any of these words or phrases, whole words, case-insensitive.'),
    regex: z.string().min(1).optional().describe('A JavaScript regular expression, matched case-insensitively.'),
    minChars: z.int().min(0).optional().describe('The query is at least this many characters long.'),
    maxChars: z.int().min(0).optional().describe('The query is at most this many characters long.'),
    boost: z.record(z.string(), z.number().min(-1).max(1)).refine((b) => Object.keys(b).length > 0, 'at least one {model: boost}').describe('Added to each named model\'s quality, -1..1.'),
  })
  .refine((r) => r.keywords !== undefined || r.regex !== undefined || r.minChars !== undefined || r.maxChars !== undefined, 'at least one condition: keywords, regex, minChars or maxChars');

export const ruleSetSchema = z.strictObject({
  base: z.record(z.string(), quality).optional().describe('Quality of each model when no rule fires (default: its mean score in the training data).'),
  rules: z.array(ruleSchema),
});

export type Rule = z.output<typeof ruleSchema>;
export type RuleSet = z.output<typeof ruleSetSchema>;

export class RuleSetError extends Error {}

/** Parses and checks a rule file; every problem names its field, e.g. `rules[2].regex`. */
export function parseRuleSet(text: string, source = 'rules'): RuleSet {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (error) {
    throw new RuleSetError(`${source}: not valid JSON or YAML: ${(error as Error).message}`);
  }
  return checkRuleSet(raw, source);
}

export function checkRuleSet(raw: unknown, source = 'rules'): RuleSet {
  const result = validate(ruleSetSchema, raw);
  if (!result.ok) throw new RuleSetError(formatFieldErrors(result.errors, source));
  const problems: string[] = [];
  result.value.rules.forEach((rule, i) => {
    if (rule.regex !== undefined) {
      try {
        new RegExp(rule.regex, 'i');
      } catch (error) {
        problems.push(`rules[${i}].regex: ${(error as Error).message}`);
      }
    }
    rule.keywords?.forEach((k, j) => {
      if (words(k).length === 0) problems.push(`rules[${i}].keywords[${j}]: got ${JSON.stringify(k)}; expected at least one letter or digit`);
    });
    if (rule.minChars !== undefined && rule.maxChars !== undefined && rule.minChars > rule.maxChars) problems.push(`rules[${i}]: minChars ${rule.minChars} is above maxChars ${rule.maxChars}`);
  });
  if (problems.length > 0) throw new RuleSetError(problems.map((p) => `${source}: ${p}`).join('\n'));
  return result.value;
}

/** Checks that every model a rule set names is a candidate of the router. */
export function checkRuleModels(set: RuleSet, models: readonly string[], source = 'rules'): void {
  const known = new Set(models);
  const problems: string[] = [];
  for (const model of Object.keys(set.base ?? {})) if (!known.has(model)) problems.push(`base.${model}`);
  set.rules.forEach((rule, i) => {
    for (const model of Object.keys(rule.boost)) if (!known.has(model)) problems.push(`rules[${i}].boost.${model}`);
  });
  if (problems.length > 0) throw new RuleSetError(problems.map((p) => `${source}: ${p}: names a model the training data does not score (known: ${models.join(', ')})`).join('\n'));
}

const WORD = /[\p{L}\p{N}_]+/gu;

/** Lower-cased words, as the featurizer sees them. */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}
