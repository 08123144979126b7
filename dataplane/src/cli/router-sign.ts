// `switchboard router sign --model FILE --key KEY.pem [--out FILE]`: appends an ed25519
// signature over the artifact's digest (see routing/rollout/signature.ts). The key is read from a
// file and never printed.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { signArtifact } from '../routing/rollout/signature.js';

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

function read(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`--${flag} ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}

/** Exit code 2 for usage errors, 1 when signing fails; `out` gets the digest that was signed. */
export function signCommand(args: string[], out: (text: string) => void, err: (text: string) => void): number {
  const { values } = parseArgs({ args, options: { model: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' } }, strict: true, allowPositionals: false });
  for (const [flag, what] of [['model', 'the router artifact to sign'], ['key', 'an ed25519 private key, PEM']] as const) {
    if (!values[flag]) {
      err(`switchboard router sign: --${flag}: required (${what})\n`);
      return 2;
    }
  }
  const model = values.model!;
  const raw = read(model, 'model');
  // A gzip artifact (as the operator packs it) is signed inside and compressed again.
  const signed = signArtifact(isGzip(raw) ? gunzipSync(raw) : raw, read(values.key!, 'key').toString('utf8'));
  const target = values.out ?? model;
  writeFileSync(target, isGzip(raw) ? gzipSync(signed.bytes) : signed.bytes);
  out(`signed ${target}\nsha256 ${signed.digest}\n`);
  return 0;
}
