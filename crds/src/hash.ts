// The content hash of a runtime config, shared by the operator (which writes it as the
// ConfigMap's switchboard.dev/config-hash annotation and status.configHash) and the data plane
// (which reports the hash it applied): one function, so the two always agree.
import { createHash } from 'node:crypto';
import type { RuntimeConfig } from './runtime-config.js';

/** First 16 hex characters of the SHA-256 of the parsed (defaults filled) config as JSON. */
export function configHash(config: RuntimeConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}
