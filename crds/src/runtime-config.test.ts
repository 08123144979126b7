import { describe, expect, it } from '@jest/globals';
import { RuntimeConfig, durationMs, formatFieldErrors, validate } from './index.js';

const deployment = { name: 'd1', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'http://127.0.0.1:9000/v1' };

describe('runtime config schema', () => {
  it('accepts a minimal config and fills documented defaults', () => {
    const result = validate(RuntimeConfig, { models: [{ name: 'fast', deployments: [deployment] }] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.routing.strategy).toBe('weighted');
    expect(result.value.retries.maxAttempts).toBe(2);
    expect(result.value.models[0]!.deployments[0]!.weight).toBe(1);
    expect(result.value.models[0]!.fallbacks).toEqual([]);
    expect(result.value.auth.clientKeys).toEqual([]);
  });

  it('names the path, the value and the expectation for each bad field', () => {
    const result = validate(RuntimeConfig, {
      models: [{ name: 'a', deployments: [{ ...deployment, provider: 'azur', baseUrl: 'ftp://x', weight: -1 }] }],
      timeouts: { total: '5 sec' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = formatFieldErrors(result.errors, 'gw.yaml');
    expect(text).toContain('gw.yaml: models[0].deployments[0].provider: got "azur"; expected one of "openai"');
    expect(text).toContain('models[0].deployments[0].baseUrl: got "ftp://x"; expected an http(s) URL');
    expect(text).toContain('models[0].deployments[0].weight: got -1');
    expect(text).toContain('timeouts.total: got "5 sec"; expected a duration');
  });

  it('rejects unknown fields by name', () => {
    const result = validate(RuntimeConfig, { models: [{ name: 'a', deployments: [{ ...deployment, apiKey: 'sk-secret' }] }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toMatchObject({ path: 'models[0].deployments[0]', message: 'unknown field(s) "apiKey"' });
  });

  it('rejects a credential reference with two sources', () => {
    const result = validate(RuntimeConfig, {
      models: [{ name: 'a', deployments: [{ ...deployment, credentials: { env: 'X', file: '/k' } }] }],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]!.path).toBe('models[0].deployments[0].credentials');
  });

  it('checks cross-field rules: duplicates, unknown fallbacks, azure apiVersion', () => {
    const result = validate(RuntimeConfig, {
      models: [
        { name: 'a', fallbacks: ['nope', 'a'], deployments: [deployment, { ...deployment, provider: 'azure' }] },
        { name: 'a', deployments: [{ ...deployment, name: 'd2' }] },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = Object.fromEntries(result.errors.map((e) => [e.path, e.message]));
    expect(byPath['models[1].name']).toBe('duplicate model alias "a"');
    expect(byPath['models[0].deployments[1].name']).toBe('duplicate deployment name "d1"');
    expect(byPath['models[0].deployments[1].apiVersion']).toBe('required for provider azure');
    expect(byPath['models[0].fallbacks[0]']).toBe('unknown model alias "nope"');
    expect(byPath['models[0].fallbacks[1]']).toBe('a model cannot fall back to itself');
  });

  it('names shedding.clients[i].weight when two keys of one priority class carry different weights', () => {
    const result = validate(RuntimeConfig, {
      models: [{ name: 'a', deployments: [deployment] }],
      auth: { clientKeys: ['search', 'suggest'].map((name) => ({ name, sha256: 'a'.repeat(64) })) },
      shedding: {
        clients: [
          { key: 'search', priorityClass: 'interactive', weight: 3 },
          { key: 'suggest', priorityClass: 'interactive', weight: 2 },
        ],
      },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toContainEqual(expect.objectContaining({ path: 'shedding.clients[1].weight', message: 'got 2; class "interactive" has weight 3 on another key' }));
  });

  it('requires at least one model', () => {
    const result = validate(RuntimeConfig, { models: [] });
    expect(result.ok).toBe(false);
  });
});

describe('durationMs', () => {
  it.each([
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ])('parses %s', (text, ms) => expect(durationMs(text)).toBe(ms));

  it('throws on a bad duration', () => expect(() => durationMs('5 sec')).toThrow('invalid duration "5 sec"'));
});
