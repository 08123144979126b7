import { describe, expect, it } from '@jest/globals';
import { secretKeys } from './cache.js';
import { containsFields, jsonEqual } from './meta.js';

describe('containsFields (is an applied object already as desired?)', () => {
  it('ignores fields the apiserver defaulted and compares arrays element by element', () => {
    const desired = { spec: { ports: [{ name: 'http', port: 80 }], type: 'ClusterIP' } };
    expect(containsFields({ spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }], type: 'ClusterIP', clusterIP: '10.0.0.9' } }, desired)).toBe(true);
    expect(containsFields({ spec: { ports: [{ name: 'http', port: 81 }], type: 'ClusterIP' } }, desired)).toBe(false);
    expect(containsFields({ spec: { ports: [{ name: 'http', port: 80 }, { name: 'x', port: 1 }], type: 'ClusterIP' } }, desired)).toBe(false);
    expect(containsFields({ spec: {} }, desired)).toBe(false);
    expect(containsFields(undefined, desired)).toBe(false);
  });
});

describe('jsonEqual', () => {
  it('ignores key order and undefined members', () => {
    expect(jsonEqual({ a: 1, b: { c: [1, 2], d: undefined } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});

describe('the Secret cache', () => {
  it('keeps key names and drops values and annotations', () => {
    const slim = secretKeys({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', resourceVersion: '7', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"stringData":{"k":"sk-live"}}' } },
      data: { k: Buffer.from('sk-live').toString('base64'), b: '' },
    });
    expect(slim).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n', uid: undefined, resourceVersion: '7' }, keys: ['b', 'k'] });
    expect(JSON.stringify(slim)).not.toContain('sk-live');
  });
});
