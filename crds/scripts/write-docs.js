// Writes the generated docs (run after `npm run build`): `npm run docs`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from '../dist/docs.js';

const root = join(import.meta.dirname, '..', '..');
for (const [path, text] of Object.entries(generatedDocs())) {
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
