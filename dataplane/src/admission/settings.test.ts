import { describe, expect, it } from '@jest/globals';
import { RuntimeShedding } from '@switchboard/crds/runtime';
import { compileShedding } from './settings.js';

describe('compileShedding', () => {
  it("gives each key its class's flow and weight, and a key without a class a flow of its own", () => {
    const settings = compileShedding(
      RuntimeShedding.parse({
        maxConcurrency: 8,
        clients: [
          { key: 'checkout', priorityClass: 'interactive', weight: 3 },
          { key: 'search', priorityClass: 'interactive', weight: 3 },
          { key: 'batch' },
        ],
      }),
    )!;
    expect(settings.clients.get('checkout')!.flow).toEqual({ name: 'interactive', weight: 3 });
    expect(settings.clients.get('search')!.flow).toEqual({ name: 'interactive', weight: 3 });
    expect(settings.clients.get('batch')!.flow).toEqual({ name: 'key:batch', weight: 1 });
  });
});
