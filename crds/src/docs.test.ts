import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from './docs.js';

describe('generated docs', () => {
  it.each(Object.entries(generatedDocs()))('%s is up to date with the schema (run `npm run docs`)', (path, text) => {
    expect(readFileSync(join(import.meta.dirname, '..', '..', path), 'utf8')).toBe(text);
  });
});
