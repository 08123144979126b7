import { describe, expect, it } from '@jest/globals';
import { RuntimeConfig, validate } from './index.js';

const deployment = (name: string) => ({ name, provider: 'openai', model: name, baseUrl: 'http://127.0.0.1:9000/v1' });
const models = [
  { name: 'strong', deployments: [deployment('s')] },
  { name: 'cheap', deployments: [deployment('c')] },
];
const routingModel = (extra: Record<string, unknown> = {}) => ({ name: 'picker', artifact: { file: '/r.art' }, candidates: { strong: 'strong', cheap: 'cheap' }, ...extra });

function errors(routers: unknown): Array<{ path: string; message: string }> {
  const result = validate(RuntimeConfig, { models, routers });
  return result.ok ? [] : result.errors.map(({ path, message }) => ({ path, message }));
}

describe('runtime config routers (virtual aliases)', () => {
  it('accepts a router with an active, a canary and shadow models; mode defaults to active', () => {
    const result = validate(RuntimeConfig, {
      models,
      routers: [
        {
          name: 'auto',
          default: 'strong',
          models: [
            routingModel(),
            routingModel({ name: 'next', mode: 'canary', canaryPercent: 10, artifact: { uri: 'https://m.example/next.art', sha256: 'a'.repeat(64) } }),
            routingModel({ name: 'shadow', mode: 'shadow', publicKey: { secretKeyRef: { name: 'keys', key: 'pub' } } }),
          ],
        },
      ],
    });
    expect(result.ok && result.value.routers?.[0]?.models.map((m) => m.mode)).toEqual(['active', 'canary', 'shadow']);
  });

  it('names the field for a router that shadows an alias, an unknown default or candidate alias, and a duplicate', () => {
    expect(errors([{ name: 'strong', default: 'gone', models: [routingModel({ candidates: { strong: 'strong', x: 'nope' } })] }])).toEqual([
      { path: 'routers[0].name', message: '"strong" is already a model alias' },
      { path: 'routers[0].default', message: 'unknown model alias "gone"' },
      { path: 'routers[0].models[0].candidates.x', message: 'unknown model alias "nope"' },
    ]);
    const twice = { name: 'auto', default: 'strong', models: [routingModel()] };
    expect(errors([twice, twice])).toEqual([{ path: 'routers[1].name', message: 'duplicate router name "auto"' }]);
  });

  it('allows one active and one canary model, canaryPercent only in canary mode, lambda or threshold', () => {
    expect(errors([{ name: 'auto', default: 'strong', models: [routingModel(), routingModel({ name: 'b' })] }])).toEqual([{ path: 'routers[0].models', message: 'at most one active model' }]);
    expect(errors([{ name: 'auto', default: 'strong', models: [routingModel({ mode: 'canary' })] }])).toEqual([
      { path: 'routers[0].models[0].canaryPercent', message: 'required when mode is canary and allowed only then' },
    ]);
    expect(errors([{ name: 'auto', default: 'strong', models: [routingModel({ canaryPercent: 5 })] }])).toEqual([
      { path: 'routers[0].models[0].canaryPercent', message: 'required when mode is canary and allowed only then' },
    ]);
    expect(errors([{ name: 'auto', default: 'strong', models: [routingModel({ lambda: 1, threshold: 0.5 })] }])).toEqual([
      { path: 'routers[0].models[0].threshold', message: 'set lambda or threshold, not both' },
    ]);
  });

  it('takes s3://bucket/key artifacts with their store and keys by reference, and names what is wrong with one', () => {
    const artifact = (a: Record<string, unknown>) => validate(RuntimeConfig, { models, routers: [{ name: 'auto', default: 'strong', models: [routingModel({ artifact: a })] }] });
    const s3 = { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', accessKeyId: { env: 'S3_KEY_ID' }, secretAccessKey: { secretKeyRef: { name: 'store', key: 'secret' } } };
    expect(artifact({ uri: 's3://bucket/r.art', sha256: 'a'.repeat(64), s3 }).ok).toBe(true);
    expect(artifact({ uri: 's3://bucket/r.art', sha256: 'a'.repeat(64) }).ok).toBe(true);
    const text = (a: Record<string, unknown>): string => {
      const result = artifact(a);
      return JSON.stringify(result.ok ? [] : result.errors);
    };
    expect(text({ uri: 's3://bucket', sha256: 'a'.repeat(64) })).toContain('an http(s):// URL or s3://bucket/key');
    expect(text({ uri: 's3://bucket/r.art', sha256: 'a'.repeat(64), s3: { accessKeyId: { env: 'S3_KEY_ID' } } })).toContain('accessKeyId and secretAccessKey go together');
    expect(text({ uri: 'https://host/r.art', sha256: 'a'.repeat(64), s3: { region: 'eu-west-1' } })).toContain('s3 applies to s3:// URIs only');
  });
});
