import { describe, expect, it } from '@jest/globals';
import { GatewayError } from './errors.js';
import { parseRequest } from './request-shape.js';

function rejection(op: Parameters<typeof parseRequest>[0], body: string): GatewayError {
  try {
    parseRequest(op, Buffer.from(body));
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected a rejection');
}

describe('request shape checks', () => {
  it('passes a valid chat request through with unknown fields kept', () => {
    const body = parseRequest('chat', Buffer.from('{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":7}'));
    expect(body.seed).toBe(7);
  });

  it('names malformed JSON', () => {
    const error = rejection('chat', '{"model":');
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_json');
    expect(error.message).toMatch(/not valid JSON/);
  });

  it('names a missing required field', () => {
    const error = rejection('chat', '{"model":"m"}');
    expect(error.param).toBe('messages');
    expect(error.message).toBe("Missing required parameter: 'messages'.");
  });

  it('names a wrongly typed nested field', () => {
    const error = rejection('chat', '{"model":"m","messages":[{"role":"wizard","content":"x"}]}');
    expect(error.param).toBe('messages[0].role');
    expect(error.code).toBe('invalid_value');
  });

  it('requires max_tokens for Anthropic messages', () => {
    expect(rejection('messages', '{"model":"m","messages":[{"role":"user","content":"x"}]}').param).toBe('max_tokens');
  });

  it('rejects a non-object body', () => {
    expect(rejection('embeddings', '[1,2]').message).toBe('Request body must be a JSON object.');
  });
});
