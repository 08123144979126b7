import { createHash } from 'node:crypto';

/** Lowercase hex SHA-256: how client keys are stored and compared. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
