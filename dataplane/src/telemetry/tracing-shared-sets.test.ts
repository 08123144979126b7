import { describe, expect, it } from '@jest/globals';
import type { Attributes } from '@opentelemetry/api';
import { SharedSets } from './tracing-shared-sets.js';

function builder(calls: string[], value: string): (into: Attributes) => void {
  return (into) => {
    calls.push(value);
    into['k'] = value;
  };
}

describe('SharedSets', () => {
  it('builds a set once per primary key and parts, and hands out the same frozen object after', () => {
    const sets = new SharedSets(16);
    const calls: string[] = [];
    const a = sets.get('deployment-a', ['chat', 1, true], builder(calls, 'a'));
    expect(sets.get('deployment-a', ['chat', 1, true], builder(calls, 'again'))).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual({ k: 'a' });
    expect(calls).toEqual(['a']);
  });

  it('tells sets apart by every part, the number of parts and the primary key', () => {
    const sets = new SharedSets(16);
    const calls: string[] = [];
    const base = sets.get('p', ['x', 1, undefined], builder(calls, 'base'));
    const variants = [
      sets.get('p', ['x', 2, undefined], builder(calls, 'attempt')),
      sets.get('p', ['x', 1, 'y'], builder(calls, 'defined')),
      sets.get('p', ['x', 1], builder(calls, 'shorter')),
      sets.get('q', ['x', 1, undefined], builder(calls, 'primary')),
    ];
    expect(new Set([base, ...variants]).size).toBe(5);
    expect(calls).toEqual(['base', 'attempt', 'defined', 'shorter', 'primary']);
    // Equal strings that are different instances match too.
    expect(sets.get('p', [['x'].join(''), 1, undefined], builder(calls, 'rebuilt'))).toBe(base);
  });

  it('starts afresh once it holds its limit; a set handed out before stays intact', () => {
    const sets = new SharedSets(3);
    const calls: string[] = [];
    const first = sets.get('p', [0], builder(calls, '0'));
    sets.get('p', [1], builder(calls, '1'));
    sets.get('p', [2], builder(calls, '2'));
    expect(sets.get('p', [0], builder(calls, 'hit'))).toBe(first);
    sets.get('p', [3], builder(calls, '3'));
    const rebuilt = sets.get('p', [0], builder(calls, '0 again'));
    expect(rebuilt).not.toBe(first);
    expect(first).toEqual({ k: '0' });
    expect(calls).toEqual(['0', '1', '2', '3', '0 again']);
  });
});
