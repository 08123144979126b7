import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { trainArtifact } from '../../../../test/learned-routing/fixtures.js';
import { LearnedRouter } from '../learned/index.js';
import { signArtifact, splitSignature, verifyArtifact } from './signature.js';

const pem = (type: 'ed25519' | 'rsa'): { privateKey: string; publicKey: string } => {
  const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string };
};
const ours = pem('ed25519');
const theirs = pem('ed25519');
const artifact = trainArtifact(false);

describe('artifact signatures', () => {
  it('verifies a signed artifact, which keeps its digest and still loads', () => {
    const signed = signArtifact(artifact.bytes, ours.privateKey);
    expect(signed.digest).toBe(artifact.digest);
    const split = splitSignature(signed.bytes);
    expect(split.digest).toBe(artifact.digest);
    expect(() => verifyArtifact(split, ours.publicKey)).not.toThrow();
    expect(LearnedRouter.load(split.artifact).digest).toBe(artifact.digest);
  });

  it('re-signing replaces the signature instead of stacking one', () => {
    const twice = signArtifact(signArtifact(artifact.bytes, theirs.privateKey).bytes, ours.privateKey);
    expect(twice.bytes.length).toBe(artifact.bytes.length + 72);
    expect(() => verifyArtifact(splitSignature(twice.bytes), ours.publicKey)).not.toThrow();
  });

  it('rejects an unsigned artifact when a key is required', () => {
    const split = splitSignature(artifact.bytes);
    expect(split.signature).toBeUndefined();
    expect(() => verifyArtifact(split, ours.publicKey)).toThrow(`artifact ${artifact.digest.slice(0, 12)} is not signed, but a public key is configured`);
  });

  it('rejects another key, and a tampered artifact', () => {
    const signed = signArtifact(artifact.bytes, theirs.privateKey).bytes;
    expect(() => verifyArtifact(splitSignature(signed), ours.publicKey)).toThrow('the signature does not match the configured public key');
    const tampered = Uint8Array.from(signArtifact(artifact.bytes, ours.privateKey).bytes);
    tampered[100] = tampered[100]! ^ 1;
    expect(() => verifyArtifact(splitSignature(tampered), ours.publicKey)).toThrow('the signature does not match');
  });

  it('names a wrong key type or a non-key without echoing the key text', () => {
    const rsa = pem('rsa');
    expect(() => signArtifact(artifact.bytes, rsa.privateKey)).toThrow('the private key is a rsa key; expected ed25519');
    const split = splitSignature(signArtifact(artifact.bytes, ours.privateKey).bytes);
    expect(() => verifyArtifact(split, rsa.publicKey)).toThrow('the public key is a rsa key; expected ed25519');
    let message = '';
    try {
      verifyArtifact(split, 'secret-looking-text');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('the public key is not a PEM key');
  });
});
