// Writes the generated CustomResourceDefinitions (run after building crds): `npm run crds`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedCrds } from '../dist/manifests.js';

const root = join(import.meta.dirname, '..', '..');
for (const [path, text] of Object.entries(generatedCrds())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
