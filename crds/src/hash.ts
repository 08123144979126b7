// The content hash of a runtime config, shared by the operator (which writes it as the
// ConfigMap's switchboard.dev/config-hash annotation and status.configHash) and the data plane
// (which reports the hash it applied): one function, so the two always agree.
import { createHash } from 'node:crypto';
import type { RuntimeConfig } from './runtime-config.js';

/** First 16 hex characters of the SHA-256 of the parsed (defaults filled) config as JSON. */
export function configHash(config: RuntimeConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

/**
 * The hash a data plane applies and reports: configHash, or, when aliases route through learned
 * routers, the hash of configHash plus each router artifact's sha256 (alias order), so a new
 * artifact is a new applied hash. The operator can compute it from the artifacts' digests.
 */
export function appliedConfigHash(config: RuntimeConfig, routerDigests: ReadonlyArray<readonly [alias: string, sha256: string]> = []): string {
  const base = configHash(config);
  if (routerDigests.length === 0) return base;
  const lines = [base, ...routerDigests.map(([alias, digest]) => `${alias}=${digest}`)];
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}
