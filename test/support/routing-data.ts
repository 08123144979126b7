// The routing training data of ../shared/data/routing, beside the repository (as on every
// developer machine and in CI).
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const ROUTING_DATA = join(REPO_ROOT, '..', 'shared', 'data', 'routing');
