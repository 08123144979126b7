// A synthetic routing dataset and trained artifacts for the learned-routing tests: queries that
// mention code score well only on "model-a" (expensive), the others well only on "model-b"
// (cheap). `inverted` swaps the two, so a swapped artifact visibly changes decisions.
import { gzipSync } from 'node:zlib';
import { rename, writeFile } from 'node:fs/promises';
import { LearnedRouter, type ModelPrice, type RoutingExample } from '../../dataplane/src/routing/learned/index.js';

export const PRICES: Record<string, ModelPrice> = { 'model-a': { input: 1, output: 2 }, 'model-b': { input: 0.1, output: 0.2 } };

const CODE_TOPICS = ['sorting', 'parsing json', 'a web server', 'binary trees', 'regular expressions', 'unit tests', 'a linked list', 'http requests', 'sql queries', 'recursion'];
const CODE_FRAMES = ['write code for {t}', 'fix this code about {t}', 'explain the code for {t} in python', 'refactor my code that handles {t}'];
const CHAT_TOPICS = ['a cat', 'the ocean', 'my grandmother', 'autumn leaves', 'a trip to paris', 'the moon', 'breakfast', 'friendship', 'rainy days', 'a lost dog'];
const CHAT_FRAMES = ['tell me a story about {t}', 'write a poem about {t}', 'what do you think of {t}', 'describe {t} in three sentences'];

export function dataset(inverted = false): RoutingExample[] {
  const out: RoutingExample[] = [];
  const [good, bad] = inverted ? ['model-b', 'model-a'] : ['model-a', 'model-b'];
  for (const t of CODE_TOPICS) for (const f of CODE_FRAMES) out.push({ query: f.replace('{t}', t), scores: { [good]: 1, [bad]: 0 } });
  for (const t of CHAT_TOPICS) for (const f of CHAT_FRAMES) out.push({ query: f.replace('{t}', t), scores: { 'model-a': inverted ? 0.9 : 0.1, 'model-b': inverted ? 0.1 : 0.9 } });
  return out;
}

export function trainArtifact(inverted = false): { bytes: Uint8Array; digest: string } {
  return LearnedRouter.train(dataset(inverted), PRICES, { kind: 'knn', head: { k: 5 }, seed: 1 }).encode();
}

export const gzip = (bytes: Uint8Array): Buffer => gzipSync(bytes);

/** Replaces a file atomically (write + rename), as volume updates do. */
export async function writeBytesAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}
