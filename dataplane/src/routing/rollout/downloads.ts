// Router artifacts referenced by URI: downloaded over http(s) or from S3 before a config is compiled (the
// compile step is synchronous), checked against the pinned sha256 and kept by digest, so a
// reload that keeps the same digest never downloads again and a changed digest is a new artifact.
import { createHash } from 'node:crypto';
import { Agent, request } from '../../pipeline/undici-core.js';
import { OverLimitError, readUpTo } from './bounded-body.js';
import { getS3Object, S3ObjectError, type S3Access } from './s3-object.js';

export class ArtifactDownloadError extends Error {}

let agent: Agent | undefined;
/** One connection pool for every download, made on the first. */
const downloadAgent = (): Agent => (agent ??= new Agent());

export interface UriArtifact {
  uri: string;
  sha256: string;
  /** s3:// URIs: endpoint, region and resolved credentials. */
  s3?: S3Access | undefined;
}

export interface ArtifactDownloadOptions {
  /** Per download. Default 30 s. */
  timeoutMs?: number;
  /** Largest artifact accepted. Default 256 MiB. */
  maxBytes?: number;
  /** Artifacts kept across reloads. Default 8. */
  keep?: number;
  /** Read for s3:// artifacts without a region (AWS_REGION). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Where a URI is named in a message: scheme, host and path, never the query (it may hold a token). */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(invalid URI)';
  }
}

export class ArtifactDownloads {
  private readonly bytes = new Map<string, Uint8Array>();
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: ArtifactDownloadOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.keep = options.keep ?? 8;
    this.env = options.env ?? process.env;
  }

  /** Downloads the artifacts not held yet. Throws ArtifactDownloadError naming the URI (without
   *  its query) for the first that fails. Older artifacts beyond `keep` are dropped, never the
   *  ones asked for (the serving config's may still be needed when this update is rejected). */
  async fetchAll(artifacts: readonly UriArtifact[]): Promise<void> {
    const wanted = new Set(artifacts.map((a) => a.sha256));
    await Promise.all(artifacts.filter((a) => !this.bytes.has(a.sha256)).map(async (a) => this.bytes.set(a.sha256, await this.download(a))));
    for (const digest of this.bytes.keys()) {
      if (this.bytes.size <= this.keep) break;
      if (!wanted.has(digest)) this.bytes.delete(digest);
    }
  }

  /** The verified bytes of a downloaded artifact. */
  get(artifact: UriArtifact): Uint8Array | undefined {
    return this.bytes.get(artifact.sha256);
  }

  private async download({ uri, sha256, s3 }: UriArtifact): Promise<Uint8Array> {
    const where = `router artifact ${redactUri(uri)}`;
    let body: Buffer;
    if (uri.startsWith('s3://')) {
      try {
        body = await getS3Object(uri, s3 ?? {}, this.env, { timeoutMs: this.timeoutMs, maxBytes: this.maxBytes });
      } catch (error) {
        throw new ArtifactDownloadError(`${where}: ${error instanceof S3ObjectError ? error.message : `download failed (${(error as Error).name})`}`);
      }
    } else body = await this.fromHttp(uri, where);
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== sha256) throw new ArtifactDownloadError(`${where}: sha256 ${actual} does not match the pinned ${sha256}`);
    return body;
  }

  private async fromHttp(uri: string, where: string): Promise<Buffer> {
    try {
      const res = await request(uri, { method: 'GET', dispatcher: downloadAgent(), signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new ArtifactDownloadError(`${where}: HTTP ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > this.maxBytes) {
        await res.body.dump();
        throw new ArtifactDownloadError(`${where}: ${declared} bytes is over the ${this.maxBytes}-byte limit`);
      }
      return await readUpTo(res.body, this.maxBytes, () => res.body.destroy());
    } catch (error) {
      if (error instanceof ArtifactDownloadError) throw error;
      if (error instanceof OverLimitError) throw new ArtifactDownloadError(`${where}: ${error.message}`);
      throw new ArtifactDownloadError(`${where}: download failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`);
    }
  }
}
