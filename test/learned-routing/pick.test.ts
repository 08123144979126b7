// The learned first pick in isolation: request text extraction, unavailable candidates, the
// reason text, and the schema checks on models[].router.
import { describe, expect, it } from '@jest/globals';
import { RuntimeConfig, validate } from '@switchboard/crds';
import { compileRouter } from '../../dataplane/src/config/router-artifact.js';
import { learnedPick, routingText } from '../../dataplane/src/pipeline/learned-pick.js';
import { LearnedRouter } from '../../dataplane/src/routing/learned/index.js';
import { trainArtifact } from './fixtures.js';

const bytes = trainArtifact(false).bytes;
const compiled = compileRouter('auto', { artifact: { configMap: { name: 'cm', key: 'k' } }, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } }, { configMaps: () => bytes });

describe('routingText', () => {
  it('reads the last user message, text blocks, prompt or input', () => {
    expect(routingText({ messages: [{ role: 'user', content: 'first' }, { role: 'assistant', content: 'x' }, { role: 'user', content: 'last' }] })).toBe('last');
    expect(routingText({ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url' }, { type: 'text', text: 'b' }] }] })).toBe('a\nb');
    expect(routingText({ prompt: 'p' })).toBe('p');
    expect(routingText({ input: ['i', 'j'] })).toBe('i');
    expect(routingText({})).toBe('');
  });
});

describe('learnedPick', () => {
  const all = new Set(['coder', 'chatty']);
  it('picks by the router and explains without prompt text', () => {
    const pick = learnedPick(compiled, { messages: [{ role: 'user', content: 'fix this code about sorting' }] }, all)!;
    expect(pick.deployment).toBe('coder');
    expect(pick.reason).toMatch(/^learned knn \(model-a q=[0-9.]+ cost=3; lambda=10\)$/);
  });

  it('skips candidates whose deployment is not eligible (cooling down, over a limit)', () => {
    const pick = learnedPick(compiled, { messages: [{ role: 'user', content: 'fix this code about sorting' }] }, new Set(['chatty']))!;
    expect(pick.deployment).toBe('chatty');
    expect(pick.reason).toMatch(/; skipped model-a\)$/);
    expect(learnedPick(compiled, { prompt: 'x' }, new Set())).toBeUndefined();
  });

  it('uses the artifact’s calibrated lambda when no lambda is configured, the configured one otherwise', () => {
    const { router } = LearnedRouter.load(bytes);
    const calibration = { lambda: 3.16, target: 'best-single' as const, folds: 4, quality: 0.9, cost: 1, bestSingle: { model: 'model-a', quality: 0.8, cost: 3 } };
    const calibrated = new LearnedRouter(router.featurizer, router.head, router.models, { ...router.prices }, { ...router.training, calibration }).encode().bytes;
    const spec = { artifact: { configMap: { name: 'cm', key: 'k' } }, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } };
    expect(compileRouter('auto', spec, { configMaps: () => calibrated }).policyText).toBe('lambda=3.16');
    expect(compileRouter('auto', { ...spec, lambda: 20 }, { configMaps: () => calibrated }).policyText).toBe('lambda=20');
    expect(compiled.policyText).toBe('lambda=10');
  });

  it('uses a threshold policy when configured', () => {
    const t = compileRouter('auto', { artifact: { configMap: { name: 'cm', key: 'k' } }, threshold: 0.5, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } }, { configMaps: () => bytes });
    expect(t.policyText).toBe('threshold=0.5');
    // Both reach 0.5 on a chat query: the cheaper one wins.
    expect(learnedPick(t, { prompt: 'tell me a story about a cat' }, all)).toMatchObject({ deployment: 'chatty' });
    expect(learnedPick(t, { prompt: 'tell me a story about a cat' }, all)!.reason).toMatch(/^learned knn \(model-b q=[0-9.]+ cost=0.3; threshold=0.5\)$/);
  });
});

describe('compileRouter errors', () => {
  it('names the artifact and what is wrong', () => {
    expect(() => compileRouter('auto', { artifact: { file: '/nonexistent/router.art' }, candidates: { 'model-a': 'coder' } }, {})).toThrow('router artifact file /nonexistent/router.art cannot be read (ENOENT)');
    expect(() => compileRouter('auto', { artifact: { configMap: { name: 'cm', key: 'k' } }, candidates: { 'model-z': 'coder' } }, { configMaps: () => bytes })).toThrow('the artifact has no model "model-z"');
    expect(() => compileRouter('auto', { artifact: { configMap: { name: 'cm', key: 'k' } }, candidates: { 'model-a': 'coder' } }, { configMaps: () => Buffer.from([0x1f, 0x8b, 1, 2]) })).toThrow('is not valid gzip');
    expect(() => compileRouter('auto', { artifact: { configMap: { name: 'cm', key: 'k' } }, candidates: { 'model-a': 'coder' } }, { configMaps: () => undefined })).toThrow('router artifact ConfigMap cm key k is missing or empty');
  });
});

describe('models[].router schema', () => {
  const base = (router: Record<string, unknown>): unknown => ({
    models: [{ name: 'auto', deployments: [{ name: 'coder', provider: 'openai', model: 'm', baseUrl: 'http://x/v1' }], router }],
  });
  it('accepts a valid router and defaults the ConfigMap key', () => {
    const r = validate(RuntimeConfig, base({ artifact: { configMap: { name: 'picker-artifact' } }, candidates: { 'model-a': 'coder' } }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.models[0]!.router!.artifact).toEqual({ configMap: { name: 'picker-artifact', key: 'artifact.gz' } });
  });
  it('rejects a candidate that is not a deployment of the alias, empty candidates and lambda with threshold', () => {
    const bad = validate(RuntimeConfig, base({ artifact: { file: 'a' }, lambda: 5, threshold: 0.5, candidates: { 'model-a': 'elsewhere' } }));
    expect(bad.ok).toBe(false);
    const text = JSON.stringify(bad);
    expect(text).toContain('\\"elsewhere\\" is not a deployment of the model \\"auto\\"');
    expect(text).toContain('set lambda or threshold, not both');
    expect(JSON.stringify(validate(RuntimeConfig, base({ artifact: { file: 'a' }, candidates: {} })))).toContain('name at least one candidate');
  });
});
