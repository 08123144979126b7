// The routing training data of ../shared/data/routing, beside the repository (as on every
// developer machine and in CI), the default input of the routing benchmarks.
import { join } from 'node:path';
import { repoRoot } from './processes.ts';

export const routingDataDir = join(repoRoot, '..', 'shared', 'data', 'routing');
export const routingTrain = join(routingDataDir, 'train.json');
export const routingModels = join(routingDataDir, 'models.json');
