// Resolves credential references to values at compile time of a RuntimeState. Values live only
// in memory, inside the state that uses them, so a rotated key applies to new requests while
// requests in flight keep the state (and key) they started with.
import { readFileSync } from 'node:fs';
import type { CredentialRef } from '@switchboard/crds/runtime';

/** Looks up Kubernetes Secret keys; absent outside a cluster. */
export type SecretLookup = (name: string, key: string) => string | undefined;

export class CredentialError extends Error {}

export function describeRef(ref: CredentialRef): string {
  if ('env' in ref) return `environment variable ${ref.env}`;
  if ('file' in ref) return `file ${ref.file}`;
  return `Secret ${ref.secretKeyRef.name} key ${ref.secretKeyRef.key}`;
}

export function resolveCredential(ref: CredentialRef, env: NodeJS.ProcessEnv, secrets?: SecretLookup): string {
  let value: string | undefined;
  if ('env' in ref) value = env[ref.env];
  else if ('file' in ref) {
    try {
      value = readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CredentialError(`${describeRef(ref)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else value = secrets?.(ref.secretKeyRef.name, ref.secretKeyRef.key);
  if (value === undefined || value === '') throw new CredentialError(`${describeRef(ref)} is missing or empty`);
  return value;
}
