import { describe, expect, it } from '@jest/globals';
import { effectivePriority, entitlementOf, requestedPriority } from './priority.js';

const clients = new Map([
  ['batch', { priority: 'sheddable' as const }],
  ['checkout', { priority: 'critical' as const }],
]);
const key = (name: string) => ({ name, models: undefined });

describe('priority mapping', () => {
  it('gives a listed key its class, an unlisted key standard', () => {
    expect(effectivePriority(entitlementOf(key('checkout'), clients), undefined)).toBe('critical');
    expect(effectivePriority(entitlementOf(key('batch'), clients), undefined)).toBe('sheddable');
    expect(effectivePriority(entitlementOf(key('someone'), clients), undefined)).toBe('standard');
  });

  it('lets the header lower the class of a key, never raise it', () => {
    expect(effectivePriority(entitlementOf(key('someone'), clients), 'critical')).toBe('standard');
    expect(effectivePriority(entitlementOf(key('batch'), clients), 'standard')).toBe('sheddable');
    expect(effectivePriority(entitlementOf(key('checkout'), clients), 'standard')).toBe('standard');
    expect(effectivePriority(entitlementOf(key('checkout'), clients), 'sheddable')).toBe('sheddable');
  });

  it('lets the master key and callers of an open gateway ask for critical; standard without a header', () => {
    for (const principal of [key('master'), undefined]) {
      expect(effectivePriority(entitlementOf(principal, clients), undefined)).toBe('standard');
      expect(effectivePriority(entitlementOf(principal, clients), 'critical')).toBe('critical');
    }
    expect(effectivePriority(entitlementOf(key('master'), new Map([['master', { priority: 'standard' as const }]])), 'critical')).toBe('standard');
  });

  it('reads one of the three class names from the header; anything else is invalid', () => {
    expect(requestedPriority('sheddable')).toBe('sheddable');
    expect(requestedPriority('urgent')).toBe('invalid');
    expect(requestedPriority(['critical', 'critical'])).toBe('invalid');
    expect(requestedPriority(undefined)).toBeUndefined();
  });
});
