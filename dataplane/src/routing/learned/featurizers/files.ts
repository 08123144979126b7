// Model files a featurizer reads: their sha256, checked against the one an artifact recorded.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export class FeaturizerError extends Error {}

/** Reads a file the featurizer needs; the error names the file and what it is for. */
export function readModelFile(path: string, what: string, hint: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new FeaturizerError(`${what} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); ${hint}`);
  }
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
