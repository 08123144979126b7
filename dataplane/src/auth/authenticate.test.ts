import { describe, expect, it } from '@jest/globals';
import type { AuthState } from '../config/runtime-state.js';
import { sha256Hex } from './key-hash.js';
import { GatewayError } from '../http/errors.js';
import { authenticate, authorizeModel } from './authenticate.js';

const auth: AuthState = {
  open: false,
  byHash: new Map([
    [sha256Hex('sk-master'), { name: 'master', models: undefined }],
    [sha256Hex('sk-team'), { name: 'team', models: new Set(['fast']) }],
  ]),
};

function status(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as GatewayError).status;
  }
}

describe('client authentication', () => {
  it('accepts a bearer key and an x-api-key by their hash', () => {
    expect(authenticate(auth, { authorization: 'Bearer sk-team' })?.name).toBe('team');
    expect(authenticate(auth, { 'x-api-key': 'sk-master' })?.name).toBe('master');
  });

  it('answers 401 for a missing or unknown key', () => {
    expect(status(() => authenticate(auth, {}))).toBe(401);
    expect(status(() => authenticate(auth, { authorization: 'Bearer nope' }))).toBe(401);
  });

  it('lets anyone in when no keys are configured', () => {
    expect(authenticate({ open: true, byHash: new Map() }, {})).toBeUndefined();
  });

  it('answers 403 for a model the key may not use', () => {
    const team = authenticate(auth, { authorization: 'Bearer sk-team' });
    expect(status(() => authorizeModel(team, 'fast'))).toBeUndefined();
    expect(status(() => authorizeModel(team, 'smart'))).toBe(403);
    expect(status(() => authorizeModel(authenticate(auth, { 'x-api-key': 'sk-master' }), 'smart'))).toBeUndefined();
  });
});
