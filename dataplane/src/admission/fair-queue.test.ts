import { describe, expect, it } from '@jest/globals';
import { FairQueue, type Flow } from './fair-queue.js';

const heavy: Flow = { name: 'interactive', weight: 3 };
const light: Flow = { name: 'batch', weight: 1 };

function drain(queue: FairQueue<string>, count: number): string[] {
  const served: string[] = [];
  for (let i = 0; i < count; i++) served.push(queue.shift()!);
  return served;
}

describe('FairQueue', () => {
  it('gives backlogged flows the freed slots in proportion to their weights', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 40; i++) {
      queue.push('interactive', heavy);
      queue.push('batch', light);
    }
    const first = drain(queue, 40);
    expect(first.filter((f) => f === 'interactive')).toHaveLength(30);
    expect(first.filter((f) => f === 'batch')).toHaveLength(10);
  });

  it('serves one flow first in first out', () => {
    const queue = new FairQueue<number>();
    [1, 2, 3].forEach((n) => queue.push(n, light));
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([1, 2, 3, undefined]);
  });

  it('gives a flow that was idle no burst: it starts at the current virtual time', () => {
    const queue = new FairQueue<string>();
    for (let i = 0; i < 20; i++) queue.push('interactive', heavy);
    drain(queue, 15);
    for (let i = 0; i < 8; i++) queue.push('batch', light);
    // From here on both are backlogged: 3 to 1, not batch catching up on the time it was idle.
    const next = drain(queue, 4);
    expect(next.filter((f) => f === 'batch')).toHaveLength(1);
  });

  it('names the waiter it would serve last (the one to displace), and removes any waiter', () => {
    const queue = new FairQueue<string>();
    queue.push('i1', heavy);
    queue.push('b1', light);
    queue.push('i2', heavy);
    queue.push('b2', light);
    expect(queue.last()).toBe('b2');
    expect(queue.remove('b2')).toBe(true);
    expect(queue.remove('b2')).toBe(false);
    expect(queue.length).toBe(3);
    expect(drain(queue, 3)).toEqual(['i1', 'b1', 'i2']);
  });
});
