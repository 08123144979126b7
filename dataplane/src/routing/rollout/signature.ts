// Optional ed25519 signature of a router artifact, appended as a trailer so the artifact format
// itself (and every reader of unsigned artifacts) stays unchanged:
//
//   artifact bytes | 64-byte ed25519 signature | magic "SWBSIG01"
//
// The signature covers the sha256 digest of the artifact bytes (the digest a RoutingModel pins),
// prefixed with a domain string so it can never be mistaken for a signature over anything else.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const SIGNATURE_MAGIC = 'SWBSIG01';
const SIGNATURE_BYTES = 64;
const TRAILER_BYTES = SIGNATURE_BYTES + SIGNATURE_MAGIC.length;
const MAGIC = Buffer.from(SIGNATURE_MAGIC, 'ascii');

export class SignatureError extends Error {}

export interface SplitArtifact {
  /** The artifact without its signature trailer. */
  artifact: Uint8Array;
  /** sha256 of `artifact`, hex. */
  digest: string;
  signature: Uint8Array | undefined;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const signedMessage = (digest: string): Buffer => Buffer.from(`switchboard-router-artifact:v1:${digest}`, 'ascii');

export function splitSignature(bytes: Uint8Array): SplitArtifact {
  const tail = bytes.subarray(bytes.length - MAGIC.length);
  if (bytes.length < TRAILER_BYTES || !MAGIC.equals(tail)) return { artifact: bytes, digest: sha256(bytes), signature: undefined };
  const artifact = bytes.subarray(0, bytes.length - TRAILER_BYTES);
  return { artifact, digest: sha256(artifact), signature: bytes.subarray(artifact.length, artifact.length + SIGNATURE_BYTES) };
}

function ed25519Key(pem: string, make: (pem: string) => KeyObject, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = make(pem);
  } catch {
    // The key text stays out of the message.
    throw new SignatureError(`the ${what} is not a PEM key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SignatureError(`the ${what} is a ${key.asymmetricKeyType ?? 'symmetric'} key; expected ed25519`);
  return key;
}

/** The artifact with a (new) signature trailer; an existing signature is replaced. */
export function signArtifact(bytes: Uint8Array, privateKeyPem: string): { bytes: Uint8Array; digest: string } {
  const key = ed25519Key(privateKeyPem, (pem) => createPrivateKey(pem), 'private key');
  const { artifact, digest } = splitSignature(bytes);
  const signature = sign(null, signedMessage(digest), key);
  return { bytes: Buffer.concat([artifact, signature, MAGIC]), digest };
}

/** Throws SignatureError unless the artifact carries a valid signature by `publicKeyPem`. */
export function verifyArtifact(split: SplitArtifact, publicKeyPem: string): void {
  const key = ed25519Key(publicKeyPem, (pem) => createPublicKey(pem), 'public key');
  if (!split.signature) throw new SignatureError(`artifact ${split.digest.slice(0, 12)} is not signed, but a public key is configured (sign it with \`switchboard router sign\`)`);
  if (!verify(null, signedMessage(split.digest), key, split.signature)) {
    throw new SignatureError(`artifact ${split.digest.slice(0, 12)}: the signature does not match the configured public key`);
  }
}
