// Reads a router artifact from s3://bucket/key with the AWS SDK's S3 client, loaded only when a
// config names an s3:// artifact (the gateway without one never loads the SDK). Credentials are
// the ones the config references, else the SDK's default chain on the pod (environment, web
// identity, container or instance metadata). Errors name the object and the S3 error code, never
// a credential.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { OverLimitError, readUpTo } from './bounded-body.js';

/** What a config says about reaching the object, credentials resolved. */
export interface S3Access {
  endpoint?: string | undefined;
  region?: string | undefined;
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

export interface S3ObjectLimits {
  timeoutMs: number;
  maxBytes: number;
}

export class S3ObjectError extends Error {}

/** bucket and key of an s3://bucket/key URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new S3ObjectError('not an s3://bucket/key URI');
  return { bucket: match[1]!, key: match[2]! };
}

/** One client per endpoint, region and key pair: connection pools outlive a download, and a
 *  rotated key gets a client of its own. Keyed by a digest, so no credential is held as a key. */
const clients = new Map<string, S3Client>();

function clientFor(access: S3Access, env: NodeJS.ProcessEnv, { S3Client }: typeof import('@aws-sdk/client-s3')): S3Client {
  const region = access.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const keys = access.credentials === undefined ? '' : `${access.credentials.accessKeyId}\n${access.credentials.secretAccessKey}`;
  const id = createHash('sha256').update(JSON.stringify([access.endpoint ?? '', region, keys])).digest('hex');
  let client = clients.get(id);
  if (client === undefined) {
    client = new S3Client({
      region,
      // S3-compatible stores are addressed path-style (bucket in the path, not the host name).
      ...(access.endpoint === undefined ? {} : { endpoint: access.endpoint, forcePathStyle: true }),
      ...(access.credentials === undefined ? {} : { credentials: access.credentials }),
      maxAttempts: 3,
    });
    clients.set(id, client);
  }
  return client;
}

/** Why the SDK failed, without a credential: the S3 error code and status, or the network error. */
function reason(error: unknown): string {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return `S3 ${e.name ?? 'error'} (HTTP ${status})`;
  if (e.name === 'CredentialsProviderError') return 'no AWS credentials: set s3.accessKeyId and s3.secretAccessKey, or give the pod an AWS identity';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return `download failed (${e.code ?? e.name ?? 'error'})`;
}

/** The object's bytes, at most `limits.maxBytes` of them. */
export async function getS3Object(uri: string, access: S3Access, env: NodeJS.ProcessEnv, limits: S3ObjectLimits): Promise<Buffer> {
  const { bucket, key } = parseS3Uri(uri);
  // Loaded on the first s3:// download; the module loader keeps it for the next ones.
  const sdk = await import('@aws-sdk/client-s3');
  const client = clientFor(access, env, sdk);
  let body: AsyncIterable<Uint8Array> | undefined;
  let declared: number | undefined;
  try {
    const res = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: AbortSignal.timeout(limits.timeoutMs) });
    body = res.Body as AsyncIterable<Uint8Array> | undefined;
    declared = res.ContentLength;
  } catch (error) {
    throw new S3ObjectError(reason(error));
  }
  if (body === undefined) throw new S3ObjectError('S3 returned no body');
  const destroy = (): void => (body as { destroy?: () => void }).destroy?.();
  if (declared !== undefined && declared > limits.maxBytes) {
    destroy();
    throw new S3ObjectError(`${declared} bytes is over the ${limits.maxBytes}-byte limit`);
  }
  try {
    return await readUpTo(body, limits.maxBytes, destroy);
  } catch (error) {
    throw new S3ObjectError(error instanceof OverLimitError ? error.message : reason(error));
  }
}
