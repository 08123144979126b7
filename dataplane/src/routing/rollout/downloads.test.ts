import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArtifactDownloads, redactUri } from './downloads.js';

const BODY = Buffer.from('pretend artifact bytes');
const DIGEST = createHash('sha256').update(BODY).digest('hex');
let server: Server;
let base: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url?.startsWith('/model.bin')) res.end(BODY);
    else if (req.url === '/big') res.end(Buffer.alloc(2048));
    else res.writeHead(404).end('no');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

describe('URI artifacts', () => {
  it('downloads, checks the sha256 and downloads again only for a new digest', async () => {
    const downloads = new ArtifactDownloads();
    const ref = { uri: `${base}/model.bin`, sha256: DIGEST };
    await downloads.fetchAll([ref]);
    expect(Buffer.from(downloads.get(ref)!)).toEqual(BODY);
    const before = hits;
    await downloads.fetchAll([ref]);
    expect(hits).toBe(before);
  });

  it('rejects a digest mismatch, an HTTP error and an oversized body, naming the URI without its query', async () => {
    const downloads = new ArtifactDownloads({ maxBytes: 1024 });
    await expect(downloads.fetchAll([{ uri: `${base}/model.bin?token=s3cr3t`, sha256: 'a'.repeat(64) }])).rejects.toThrow(
      `router artifact ${base}/model.bin: sha256 ${DIGEST} does not match the pinned ${'a'.repeat(64)}`,
    );
    await expect(downloads.fetchAll([{ uri: `${base}/missing`, sha256: DIGEST }])).rejects.toThrow(`router artifact ${base}/missing: HTTP 404`);
    await expect(downloads.fetchAll([{ uri: `${base}/big`, sha256: DIGEST }])).rejects.toThrow('2048 bytes is over the 1024-byte limit');
    await expect(downloads.fetchAll([{ uri: 'http://127.0.0.1:1/x', sha256: DIGEST }])).rejects.toThrow('router artifact http://127.0.0.1:1/x: download failed (ECONNREFUSED)');
  });

  it('keeps the artifacts asked for and drops the oldest others beyond its size', async () => {
    const downloads = new ArtifactDownloads({ keep: 1 });
    const ref = { uri: `${base}/model.bin`, sha256: DIGEST };
    await downloads.fetchAll([ref]);
    await downloads.fetchAll([]);
    expect(downloads.get(ref)).toBeDefined();
  });

  it('redacts query strings and credentials from URIs', () => {
    expect(redactUri('https://user:pw@host.example/a/b.art?X-Amz-Signature=abc')).toBe('https://host.example/a/b.art');
  });
});
