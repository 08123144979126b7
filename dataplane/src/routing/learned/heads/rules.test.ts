import { describe, expect, it } from '@jest/globals';
import type { ModelPrice } from '../artifact.js';
import { decodeArtifact } from '../artifact.js';
import type { RoutingExample } from '../dataset.js';
import { LearnedRouter } from '../router.js';
import { parseRuleSet } from './rule-set.js';
import type { RulesHead } from './rules.js';

const prices: Record<string, ModelPrice> = { coder: { input: 1, output: 1 }, writer: { input: 1, output: 1 }, cheap: { input: 0.1, output: 0.1 } };

// Flat scores, so the base quality of every model is 0.5 and only the rules move it.
const flat: RoutingExample[] = [{ query: 'hello', scores: { coder: 0.5, writer: 0.5, cheap: 0.5 } }];

const handWritten = `
# what a platform team writes
base: { cheap: 0.6 }
rules:
  - name: code
    keywords: [python, "stack trace"]
    boost: { coder: 0.3, cheap: -0.2 }
  - name: poetry
    regex: "\\\\b(poem|sonnet)s?\\\\b"
    boost: { writer: 0.25 }
  - name: long python
    keywords: [python]
    minChars: 60
    boost: { coder: 0.1 }
`;

function handRouter(): LearnedRouter {
  return LearnedRouter.train(flat, prices, { kind: 'rules', head: parseRuleSet(handWritten, 'rules.yaml') });
}

function quality(router: LearnedRouter, query: string): Record<string, number> {
  const q = router.predict(query);
  return Object.fromEntries(router.models.map((m, k) => [m, Number(q[k]!.toFixed(4))]));
}

describe('rules head', () => {
  it('fires hand-written rules exactly as written and adds their boosts to the base quality', () => {
    const router = handRouter();
    const head = router.head as RulesHead;
    expect(quality(router, 'good morning')).toEqual({ coder: 0.5, writer: 0.5, cheap: 0.6 });
    expect(head.fired('fix my Python script')).toEqual([0]);
    expect(quality(router, 'fix my Python script')).toEqual({ coder: 0.8, writer: 0.5, cheap: 0.4 });
    // Keywords are whole words and phrases: "pythonic" is not "python", "stack trace" needs both words in order.
    expect(head.fired('a pythonic stack of traces')).toEqual([]);
    expect(head.fired('here is the STACK   trace')).toEqual([0]);
    expect(head.fired('write me a sonnet')).toEqual([1]);
    expect(head.fired('write me sonnets')).toEqual([1]);
    // Every condition of a rule must hold: "long python" needs the keyword and 60 characters.
    const long = 'please explain this python program to me, line by line, slowly';
    expect(long.length).toBeGreaterThanOrEqual(60);
    expect(head.fired(long)).toEqual([0, 2]);
    expect(quality(router, long).coder).toBe(0.9);
    expect(head.fired('python poem')).toEqual([0, 1]);
  });

  it('keeps every quality in [0, 1] when boosts add up past the ends', () => {
    const router = LearnedRouter.train(flat, prices, { kind: 'rules', head: parseRuleSet('rules: [{name: a, keywords: [x], boost: {coder: 1, cheap: -1}}, {name: b, keywords: [x], boost: {coder: 1}}]') });
    expect(quality(router, 'x')).toEqual({ coder: 1, writer: 0.5, cheap: 0 });
  });

  it('carries the rules in the artifact and predicts the same after a load', () => {
    const router = handRouter();
    const { bytes } = router.encode();
    const header = decodeArtifact(bytes).header;
    expect((header.head.params.rules as { name: string }[]).map((r) => r.name)).toEqual(['code', 'poetry', 'long python']);
    const { router: loaded } = LearnedRouter.load(bytes);
    for (const q of ['fix my Python script', 'write me a sonnet', 'good morning']) expect(quality(loaded, q)).toEqual(quality(router, q));
  });

  it('mines keyword rules from scored queries and routes by them', () => {
    const examples: RoutingExample[] = [];
    const topics = ['sorting', 'parsing', 'servers', 'trees', 'queues', 'caches', 'graphs', 'streams'];
    for (let i = 0; i < 160; i++) {
      const t = topics[i % topics.length]!;
      if (i % 2 === 0) examples.push({ query: `write python code for ${t} number ${i}`, scores: { coder: 1, writer: 0, cheap: 0.5 } });
      else examples.push({ query: `write a poem about ${t} number ${i}`, scores: { coder: 0, writer: 1, cheap: 0.5 } });
    }
    const router = LearnedRouter.train(examples, prices, { kind: 'rules', head: { maxRules: 8, minSupport: 5 } });
    const head = router.head as RulesHead;
    // The strongest n-grams split the two topics; their boosts point at the topic's model.
    const code = head.rules.find((r) => r.name === 'mined "code"');
    const poem = head.rules.find((r) => r.name === 'mined "poem"');
    expect(code?.boost.coder).toBeGreaterThan(0);
    expect(poem?.boost.writer).toBeGreaterThan(0);
    expect(head.rules.filter((r) => r.keywords !== undefined)).toHaveLength(8);
    expect(router.route('python code for a heap', { policy: { rule: 'willingness-to-pay', lambda: 100 } }).model).toBe('coder');
    expect(router.route('a poem about the sea', { policy: { rule: 'willingness-to-pay', lambda: 100 } }).model).toBe('writer');
    const { router: loaded } = LearnedRouter.load(router.encode().bytes);
    expect(quality(loaded, 'python code for a heap')).toEqual(quality(router, 'python code for a heap'));
  });

  it('rejects a bad rule file naming the field and the problem', () => {
    expect(() => parseRuleSet('rules: [{name: a, regex: "(", boost: {coder: 0.1}}]', 'r.yaml')).toThrow(/^r\.yaml: rules\[0\]\.regex: Invalid regular expression/);
    expect(() => parseRuleSet('rules: [{name: a, keyword: [x], boost: {coder: 0.1}}]', 'r.yaml')).toThrow('r.yaml: rules[0]: got');
    expect(() => parseRuleSet('rules: [{name: a, keywords: [x], boost: {coder: 3}}]', 'r.yaml')).toThrow('r.yaml: rules[0].boost.coder: got 3; expected');
    expect(() => parseRuleSet('rules: [{name: a, boost: {coder: 0.1}}]', 'r.yaml')).toThrow('at least one condition: keywords, regex, minChars or maxChars');
    expect(() => parseRuleSet('rules: [{name: a, keywords: ["--"], boost: {coder: 0.1}}]', 'r.yaml')).toThrow('r.yaml: rules[0].keywords[0]: got "--"; expected at least one letter or digit');
    expect(() => LearnedRouter.train(flat, prices, { kind: 'rules', head: parseRuleSet('rules: [{name: a, keywords: [x], boost: {ghost: 0.1}}]') })).toThrow('rules: rules[0].boost.ghost: names a model the training data does not score');
  });
});
