// Where the onnx featurizer tests find all-MiniLM-L6-v2: scripts/models/fetch-minilm.sh puts it in
// the cache (.ci/run calls it). A missing model fails the test with the command to run, never skips.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const MINILM_DIR = join(process.env.SWITCHBOARD_CACHE ?? join(homedir(), '.cache/switchboard'), 'models/all-MiniLM-L6-v2-int8');

export function minilmDir(): string {
  if (!existsSync(join(MINILM_DIR, 'model.onnx')) || !existsSync(join(MINILM_DIR, 'tokenizer.json'))) {
    throw new Error(`all-MiniLM-L6-v2 is not in ${MINILM_DIR}: run \`bash scripts/models/fetch-minilm.sh\` first (.ci/run does)`);
  }
  return MINILM_DIR;
}
