// The routing training data of ../shared/data/routing, beside the repository (as on every
// developer machine and in CI), the default input of the routing benchmarks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExamples, parseModels, type ModelPrice, type RoutingExample } from '../../dataplane/dist/routing/learned/index.js';
import { repoRoot } from './processes.ts';

export const routingDataDir = join(repoRoot, '..', 'shared', 'data', 'routing');
export const routingTrain = join(routingDataDir, 'train.json');
export const routingModels = join(routingDataDir, 'models.json');

/** The `--data` and `--models` options of every routing benchmark, for `parseArgs`. */
export const routingDataOptions = {
  data: { type: 'string', default: routingTrain },
  models: { type: 'string', default: routingModels },
} as const;

/** The examples and model prices those options name, parsed and checked as the CLI does. */
export function loadRoutingData(flags: { data: string; models: string }): { text: string; examples: RoutingExample[]; prices: Record<string, ModelPrice> } {
  const text = readFileSync(flags.data, 'utf8');
  return { text, examples: parseExamples(text, flags.data), prices: parseModels(readFileSync(flags.models, 'utf8'), flags.models) };
}
