// The http featurizer against a small embeddings endpoint on loopback (the real mock provider is
// exercised end to end in test/learned-routing/http.test.ts): batching, the bounded cache, the
// API key, and clear errors for timeouts, failed requests and malformed answers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { embedAhead } from './featurizers/embedded.js';
import { HttpFeaturizer, type HttpParams } from './featurizers/http.js';
import { featurizerOf } from './featurizers/choice.js';
import { decodeArtifact } from './artifact.js';
import { LearnedRouter } from './router.js';

interface Seen {
  model: unknown;
  input: string[];
  authorization: string | undefined;
}

let server: Server;
let url: string;
let seen: Seen[] = [];
/** How the next answers look; `ok` embeds each text as [length, vowels, 1]. */
let mode: 'ok' | 'slow' | 'error' | 'short' | 'garbage' = 'ok';

function embed(text: string): number[] {
  return [text.length, (text.match(/[aeiou]/g) ?? []).length, 1];
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void body(req).then((text) => {
      const request = JSON.parse(text) as { model: unknown; input: string | string[] };
      const input = typeof request.input === 'string' ? [request.input] : request.input;
      seen.push({ model: request.model, input, authorization: req.headers.authorization });
      const json = (status: number, value: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (mode === 'slow') return void setTimeout(() => json(200, { data: [] }), 2000).unref();
      if (mode === 'error') return json(429, { error: { message: 'Rate limit reached for requests', type: 'rate_limit' } });
      if (mode === 'garbage') return void res.writeHead(200).end('<html>');
      const data = input.map((t, index) => ({ object: 'embedding', index, embedding: mode === 'short' ? [1, 2] : embed(t) })).reverse(); // index order, not array order
      json(200, { object: 'list', data });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  mode = 'ok';
});

const params = (extra: Partial<HttpParams> = {}): HttpParams => ({ url, model: 'embed-small', dim: 3, cacheSize: 2, timeoutMs: 500, batchSize: 2, ...extra });

describe('http featurizer', () => {
  it('learns the embedding length from the endpoint and records url and model, never the key', async () => {
    const f = await HttpFeaturizer.open({ url, model: 'embed-small', cacheSize: 8, timeoutMs: 500, batchSize: 4 }, 'sk-embed-secret');
    expect(f.dim).toBe(3);
    expect(f.record()).toEqual({ type: 'http', params: { url, model: 'embed-small', dim: 3, cacheSize: 8, timeoutMs: 500, batchSize: 4 } });
    expect(JSON.stringify(f.record())).not.toContain('sk-embed-secret');
    expect(seen[0]).toMatchObject({ model: 'embed-small', authorization: 'Bearer sk-embed-secret' });
  });

  it('POSTs {model, input} to /embeddings and returns unit vectors in input order', async () => {
    const f = new HttpFeaturizer(params());
    const rows = await f.featurizeMany(['aa', 'bbbb', 'e']);
    expect(seen.map((s) => s.input)).toEqual([['aa', 'bbbb'], ['e']]); // batches of batchSize
    const [aa] = rows;
    const expected = embed('aa');
    const n = Math.hypot(...expected);
    expect(Array.from(aa!.values)).toEqual(expected.map((v) => Math.fround(v / n)).filter((v) => v !== 0));
    expect(Array.from(rows[1]!.indices)).toEqual([0, 2]); // "bbbb" has no vowels: a zero component is left out
  });

  it('answers repeated queries from a bounded LRU cache', async () => {
    const f = new HttpFeaturizer(params({ cacheSize: 2 }));
    await f.featurize('one');
    await f.featurize('two');
    await f.featurize('one');
    expect(seen).toHaveLength(2);
    await f.featurize('three'); // evicts "two", the least recently used
    expect(f.cached).toBe(2);
    await f.featurize('one');
    expect(seen).toHaveLength(3);
    await f.featurize('two');
    expect(seen).toHaveLength(4);
  });

  it('embeds a prompt once when concurrent requests carry it', async () => {
    const f = new HttpFeaturizer(params());
    const rows = await Promise.all([f.featurize('same'), f.featurize('same'), f.featurize('other')]);
    expect(seen.map((s) => s.input)).toEqual([['same'], ['other']]);
    expect(rows[0]).toBe(rows[1]);
  });

  it('names the endpoint and the problem when a request fails', async () => {
    const f = new HttpFeaturizer(params());
    mode = 'error';
    await expect(f.featurize('q')).rejects.toThrow(`http featurizer ${url}/embeddings (model embed-small): answered 429: Rate limit reached for requests`);
    mode = 'slow';
    await expect(f.featurize('q')).rejects.toThrow(/: no answer within 500 ms$/);
    mode = 'garbage';
    await expect(f.featurize('q')).rejects.toThrow(/: the response is not JSON$/);
    mode = 'short';
    await expect(f.featurize('q')).rejects.toThrow(/response data\[0\]\.embedding has 2 dimensions; the router expects 3$/);
    const closed = new HttpFeaturizer(params({ url: 'http://127.0.0.1:1/v1' }));
    await expect(closed.featurize('q')).rejects.toThrow(/^http featurizer http:\/\/127\.0\.0\.1:1\/v1\/embeddings \(model embed-small\): request failed: /);
  });

  it('rejects bad parameters naming each field', () => {
    expect(() => new HttpFeaturizer(params({ url: 'ftp://x', cacheSize: 0, timeoutMs: -1 }))).toThrow(
      'http featurizer: url: got "ftp://x"; expected an http(s) URL; cacheSize: got 0; expected an integer >= 1; timeoutMs: got -1; expected an integer >= 1 (milliseconds)',
    );
  });

  it('trains a router whose artifact names the endpoint and model and embeds queries there', async () => {
    const f = await HttpFeaturizer.open({ url, model: 'embed-small', cacheSize: 16, timeoutMs: 500, batchSize: 8 });
    // Long queries score well on "big", short ones on "small": the embedding's first component is the length.
    const examples = ['a', 'bb', 'ccc', 'x'.repeat(40), 'y'.repeat(50), 'z'.repeat(60)].map((query) => ({ query, scores: query.length > 10 ? { big: 1, small: 0 } : { big: 0, small: 1 } }));
    const prices = { big: { input: 1, output: 1 }, small: { input: 1, output: 1 } };
    const trained = LearnedRouter.train(examples, prices, { kind: 'knn', head: { k: 2 }, fixedFeaturizer: await embedAhead(f, examples.map((e) => e.query)) });
    const artifact = decodeArtifact(trained.encode().bytes);
    expect(artifact.header.featurizer).toEqual({ type: 'http', params: { url, model: 'embed-small', dim: 3, cacheSize: 16, timeoutMs: 500, batchSize: 8 } });
    const loaded = featurizerOf(artifact);
    expect(loaded).toBeInstanceOf(HttpFeaturizer);
    const { router } = LearnedRouter.load(trained.encode().bytes);
    seen = [];
    expect((await router.routeAsync('w'.repeat(45))).model).toBe('big');
    expect((await router.routeAsync('ab')).model).toBe('small');
    expect(seen.map((s) => s.input)).toEqual([['w'.repeat(45)], ['ab']]);
  });
});
