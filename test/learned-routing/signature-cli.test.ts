// `switchboard router sign`: signs a plain or gzip artifact in place or to --out, and the result
// verifies against the public key (and only that key); bad input exits non-zero naming the flag.
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { routerCommand } from '../../dataplane/src/cli/router.js';
import { splitSignature, verifyArtifact } from '../../dataplane/src/routing/rollout/signature.js';
import { gzip, trainArtifact } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-sign-'));
const pair = generateKeyPairSync('ed25519');
const privatePath = join(dir, 'key.pem');
writeFileSync(privatePath, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const artifact = trainArtifact(false);

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await routerCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('switchboard router sign', () => {
  it('signs an artifact in place; the signature verifies and the digest is unchanged', async () => {
    const path = join(dir, 'plain.art');
    writeFileSync(path, artifact.bytes);
    const result = await run(['sign', '--model', path, '--key', privatePath]);
    expect(result).toEqual({ code: 0, out: `signed ${path}\nsha256 ${artifact.digest}\n`, err: '' });
    const split = splitSignature(readFileSync(path));
    expect(split.digest).toBe(artifact.digest);
    expect(() => verifyArtifact(split, publicPem)).not.toThrow();
  });

  it('signs inside a gzip artifact and keeps it gzip, writing --out', async () => {
    const path = join(dir, 'packed.art.gz');
    writeFileSync(path, gzip(artifact.bytes));
    const target = join(dir, 'signed.art.gz');
    expect((await run(['sign', '--model', path, '--key', privatePath, '--out', target])).code).toBe(0);
    expect(() => verifyArtifact(splitSignature(gunzipSync(readFileSync(target))), publicPem)).not.toThrow();
    expect(readFileSync(path)).toEqual(gzip(artifact.bytes));
  });

  it('names a missing flag (exit 2) and a key that is not ed25519 (exit 1), never printing key material', async () => {
    expect(await run(['sign', '--model', join(dir, 'plain.art')])).toEqual({ code: 2, out: '', err: 'switchboard router sign: --key: required (an ed25519 private key, PEM)\n' });
    const rsaPath = join(dir, 'rsa.pem');
    writeFileSync(rsaPath, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const rsa = await run(['sign', '--model', join(dir, 'plain.art'), '--key', rsaPath]);
    expect(rsa).toEqual({ code: 1, out: '', err: 'switchboard router sign: the private key is a rsa key; expected ed25519\n' });
    const missing = await run(['sign', '--model', join(dir, 'nope.art'), '--key', privatePath]);
    expect(missing).toMatchObject({ code: 1, err: `switchboard router sign: --model ${join(dir, 'nope.art')}: cannot read: ENOENT\n` });
  });
});
