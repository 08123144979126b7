import { describe, expect, it } from '@jest/globals';
import { FAILURE_CLASSES, failureClass, refusalRoute, routeClass } from './route-class.js';

describe('routeClass', () => {
  it.each([
    [{ fallback: false, retry: false, learned: false }, 'rule'],
    [{ fallback: false, retry: false, learned: true }, 'learned'],
    [{ fallback: false, retry: true, learned: false }, 'retry'],
    [{ fallback: true, retry: true, learned: false }, 'fallback'],
    [{ fallback: true, retry: true, learned: true }, 'fallback'],
  ] as const)('classes %o as %s', (pick, expected) => {
    expect(routeClass(pick)).toBe(expected);
  });
});

describe('refusalRoute', () => {
  it('classes admission refusals (over capacity, over a key quota) as shed and every other refusal as none', () => {
    expect(refusalRoute('gateway_overloaded')).toBe('shed');
    expect(refusalRoute('client_quota_exceeded')).toBe('shed');
    for (const code of ['model_not_found', 'invalid_api_key', 'internal_error', null]) expect(refusalRoute(code)).toBe('none');
  });
});

describe('failureClass', () => {
  it.each([
    ['429', 'http-429'],
    ['500', 'http-5xx'],
    ['503', 'http-5xx'],
    ['401', 'http-4xx'],
    ['404', 'http-4xx'],
    ['connect ECONNREFUSED', 'connect-error'],
    ['connect ECONNRESET', 'connect-error'],
    ['connect timeout', 'connect-timeout'],
    ['first-byte timeout', 'first-byte-timeout'],
    ['stream ECONNRESET', 'body-error'],
    ['stream error', 'body-error'],
    ['body UND_ERR_BODY_TIMEOUT', 'body-error'],
    ['cut mid-stream', 'mid-stream'],
    ['upstream error', 'other'],
    ['302', 'other'],
  ])('classes the upstream reason %j as %s', (reason, expected) => {
    expect(failureClass(reason)).toBe(expected);
  });

  it('never returns a class outside the documented set, whatever the text', () => {
    for (const reason of ['', 'x'.repeat(300), '999', 'connect', 'timeout', 'stream']) expect(FAILURE_CLASSES).toContain(failureClass(reason));
  });
});
