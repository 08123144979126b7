// A real S3 API server for tests: moto's server (PyPI moto[server], installed by
// scripts/s3/install-moto.sh into ~/.cache/switchboard/moto) on a free loopback port, with
// helpers that create buckets and put objects through the AWS SDK. Readiness is polled, never slept.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, waitServing } from './server-process.ts';

export const MOTO_SERVER = join(process.env.SWITCHBOARD_CACHE ?? join(homedir(), '.cache', 'switchboard'), 'moto', 'bin', 'moto_server');

/** Credentials moto accepts (any); tests pass them to the gateway through the standard AWS variables. */
export const S3_CREDENTIALS = { accessKeyId: 'AKIASWITCHBOARDTEST', secretAccessKey: 'switchboard-test-secret-key' };
export const S3_REGION = 'us-east-1';

export interface S3Server {
  endpoint: string;
  /** The AWS environment variables that point an AWS SDK client at this server. */
  env: Record<string, string>;
  put(bucket: string, key: string, body: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(): Promise<S3Server> {
  if (!existsSync(MOTO_SERVER)) throw new Error(`${MOTO_SERVER} is missing: run scripts/s3/install-moto.sh`);
  const port = await freePort();
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (output = (output + t).slice(-20_000)));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (output = (output + t).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    // moto answers ListBuckets on / once it serves.
    await waitServing('moto_server', endpoint, child, () => output, 30_000, (res) => res.status < 500);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  const client = new S3Client({ endpoint, region: S3_REGION, forcePathStyle: true, credentials: S3_CREDENTIALS });
  const buckets = new Set<string>();
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_REGION: S3_REGION, AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey },
    async put(bucket, key, body) {
      if (!buckets.has(bucket)) {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        buckets.add(bucket);
      }
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async close() {
      client.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
