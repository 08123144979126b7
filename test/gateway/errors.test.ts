// Bad input is rejected at the edge with the status and the error body the provider would send:
// OpenAI's {"error":{message,type,param,code}} on OpenAI endpoints (read through the openai
// client's typed errors), Anthropic's {"type":"error","error":{type,message}} on /v1/messages.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI, { APIError } from 'openai';
import Anthropic, { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, deployment, gatewayConfig, sha256Hex, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';

const TEAM_KEY = 'sk-team-a-test';
const MAX_BODY = 4096;

let mock: MockServer;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(
    gatewayConfig(
      [
        { name: 'chat', deployments: [deployment(mock, 'chat-up', 'openai')] },
        { name: 'secret', deployments: [deployment(mock, 'secret-up', 'openai')] },
        { name: 'claude', deployments: [deployment(mock, 'claude-up', 'anthropic')] },
      ],
      {
        auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' }, clientKeys: [{ name: 'team-a', sha256: sha256Hex(TEAM_KEY), models: ['chat', 'claude'] }] },
        server: { maxBodyBytes: MAX_BODY },
      },
    ),
  );
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

/** Runs `call`, which must fail with an openai APIError, and returns that error. */
async function openaiError(call: () => Promise<unknown>): Promise<APIError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof APIError)) throw new Error(`expected an openai APIError, got ${String(error)}`);
  return error;
}

async function anthropicError(call: () => Promise<unknown>): Promise<AnthropicAPIError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof AnthropicAPIError)) throw new Error(`expected an Anthropic APIError, got ${String(error)}`);
  return error;
}

/** The OpenAI error object, with exactly the four fields OpenAI sends. */
function openaiShape(type: string, param: string | null, code: string, message: string | RegExp): object {
  return { message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message), type, param, code };
}

function anthropicShape(type: string, message: string | RegExp): object {
  return { type: 'error', error: { type, message: typeof message === 'string' ? expect.stringContaining(message) : expect.stringMatching(message) } };
}

const json = { 'content-type': 'application/json' };
const hi = [{ role: 'user' as const, content: 'hi' }];
type ChatParams = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type MessageParams = Anthropic.MessageCreateParamsNonStreaming;

describe('OpenAI endpoints reject bad input in the OpenAI error format', () => {
  it('answers 400 invalid_json naming the parse problem for a malformed JSON body', async () => {
    const error = await openaiError(() => gw.openai().post('/chat/completions', { body: '{"model": "chat", "messages": [', headers: json }));
    expect(error.status).toBe(400);
    expect(error.error).toEqual(openaiShape('invalid_request_error', null, 'invalid_json', /^Request body is not valid JSON: .*JSON/));
  });

  it('answers 400 for a JSON body that is not an object', async () => {
    const error = await openaiError(() => gw.openai().post('/chat/completions', { body: '[1,2]', headers: json }));
    expect(error.status).toBe(400);
    expect(error.error).toEqual(openaiShape('invalid_request_error', null, 'invalid_json', 'Request body must be a JSON object.'));
  });

  it('answers 400 naming a missing required field in param', async () => {
    const error = await openaiError(() => gw.openai().chat.completions.create({ model: 'chat' } as ChatParams));
    expect(error.status).toBe(400);
    expect(error.param).toBe('messages');
    expect(error.code).toBe('missing_required_parameter');
    expect(error.error).toEqual(openaiShape('invalid_request_error', 'messages', 'missing_required_parameter', "Missing required parameter: 'messages'."));
  });

  it('answers 400 naming a missing embeddings input', async () => {
    const error = await openaiError(() => gw.openai().embeddings.create({ model: 'chat' } as OpenAI.EmbeddingCreateParams));
    expect(error.status).toBe(400);
    expect(error.param).toBe('input');
  });

  it('answers 400 naming a wrong-typed field and what was expected', async () => {
    const error = await openaiError(() => gw.openai().chat.completions.create({ model: 'chat', messages: hi, max_tokens: 'ten' } as unknown as ChatParams));
    expect(error.status).toBe(400);
    expect(error.param).toBe('max_tokens');
    expect(error.code).toBe('invalid_value');
    expect(error.error).toEqual(openaiShape('invalid_request_error', 'max_tokens', 'invalid_value', /^Invalid value for 'max_tokens': expected number/));
  });

  it('answers 400 naming a bad field nested in a message', async () => {
    const messages = [{ role: 'robot', content: 'hi' }] as unknown as ChatParams['messages'];
    const error = await openaiError(() => gw.openai().chat.completions.create({ model: 'chat', messages }));
    expect(error.status).toBe(400);
    expect(error.param).toBe('messages[0].role');
    expect(error.message).toContain("'messages[0].role'");
  });

  it('answers 404 model_not_found for a model the gateway does not serve', async () => {
    const error = await openaiError(() => gw.openai().chat.completions.create({ model: 'gpt-nope', messages: hi }));
    expect(error.status).toBe(404);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.error).toEqual(openaiShape('invalid_request_error', 'model', 'model_not_found', "The model 'gpt-nope' does not exist"));
  });

  it('answers 413 for a body over server.maxBodyBytes', async () => {
    const error = await openaiError(() => gw.openai().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY) }] }));
    expect(error.status).toBe(413);
    expect(error.error).toEqual(openaiShape('invalid_request_error', null, 'request_too_large', `Request body exceeds the limit of ${MAX_BODY} bytes.`));
  });

  it('answers 413 for an oversized body sent chunked, without a content-length', async () => {
    const chunk = new TextEncoder().encode(`{"model":"chat","messages":[{"role":"user","content":"${'y'.repeat(1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, ...json },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: openaiShape('invalid_request_error', null, 'request_too_large', 'exceeds the limit') });
  });

  it('answers 401 missing_api_key without a key', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { authorization: null } });
    const error = await openaiError(() => client.chat.completions.create({ model: 'chat', messages: hi }));
    expect(error.status).toBe(401);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.error).toEqual(openaiShape('invalid_request_error', null, 'missing_api_key', 'Missing API key'));
  });

  it('answers 401 invalid_api_key for an unknown key', async () => {
    const error = await openaiError(() => gw.openai('sk-wrong').chat.completions.create({ model: 'chat', messages: hi }));
    expect(error.status).toBe(401);
    expect(error.error).toEqual(openaiShape('invalid_request_error', null, 'invalid_api_key', 'Invalid API key.'));
    // The key is never echoed back.
    expect(JSON.stringify(error.error)).not.toContain('sk-wrong');
  });

  it('answers 403 model_not_allowed when a client key may not use the model, and serves the ones it may', async () => {
    const error = await openaiError(() => gw.openai(TEAM_KEY).chat.completions.create({ model: 'secret', messages: hi }));
    expect(error.status).toBe(403);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(error.param).toBe('model');
    expect(error.code).toBe('model_not_allowed');
    expect(error.message).toContain("not allowed to use model 'secret'");
    const ok = await gw.openai(TEAM_KEY).chat.completions.create({ model: 'chat', messages: hi });
    expect(ok.choices[0]!.message.content).toBeTruthy();
  });

  it('answers 404 in the OpenAI format for an unknown endpoint', async () => {
    const error = await openaiError(() => gw.openai().post('/nope', { body: {} }));
    expect(error.status).toBe(404);
    expect(error.code).toBe('unknown_url');
  });
});

describe('/v1/messages rejects bad input in the Anthropic error format', () => {
  it('answers 400 for a malformed JSON body', async () => {
    const error = await anthropicError(() => gw.anthropic().post('/v1/messages', { body: '{"model": ', headers: json }));
    expect(error.status).toBe(400);
    expect(error.error).toEqual(anthropicShape('invalid_request_error', /^Request body is not valid JSON/));
  });

  it('answers 400 naming a missing max_tokens', async () => {
    const error = await anthropicError(() => gw.anthropic().messages.create({ model: 'claude', messages: hi } as MessageParams));
    expect(error.status).toBe(400);
    expect(error.error).toEqual(anthropicShape('invalid_request_error', "Missing required parameter: 'max_tokens'."));
  });

  it('answers 400 naming a wrong-typed field', async () => {
    const error = await anthropicError(() => gw.anthropic().messages.create({ model: 'claude', max_tokens: 10, messages: 'hi' } as unknown as MessageParams));
    expect(error.status).toBe(400);
    expect(error.error).toEqual(anthropicShape('invalid_request_error', /^Invalid value for 'messages': expected array/));
  });

  it('answers 404 not_found_error for an unknown model', async () => {
    const error = await anthropicError(() => gw.anthropic().messages.create({ model: 'claude-nope', max_tokens: 10, messages: hi }));
    expect(error.status).toBe(404);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error.error).toEqual(anthropicShape('not_found_error', "The model 'claude-nope' does not exist"));
  });

  it('answers 413 request_too_large for a body over server.maxBodyBytes', async () => {
    const error = await anthropicError(() =>
      gw.anthropic().messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY) }] }),
    );
    expect(error.status).toBe(413);
    expect(error.error).toEqual(anthropicShape('request_too_large', `exceeds the limit of ${MAX_BODY} bytes`));
  });

  it('answers 401 authentication_error for an unknown key', async () => {
    const error = await anthropicError(() => gw.anthropic('sk-wrong').messages.create({ model: 'claude', max_tokens: 10, messages: hi }));
    expect(error.status).toBe(401);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error.error).toEqual(anthropicShape('authentication_error', 'Invalid API key.'));
  });

  it('answers 403 permission_error when a client key may not use the model', async () => {
    // team-a may use 'claude' but not 'secret' (an OpenAI deployment, reached by translation).
    const error = await anthropicError(() => gw.anthropic(TEAM_KEY).messages.create({ model: 'secret', max_tokens: 10, messages: hi }));
    expect(error.status).toBe(403);
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(error.error).toEqual(anthropicShape('permission_error', "not allowed to use model 'secret'"));
  });
});

describe('after bad input', () => {
  it('keeps serving both wires', async () => {
    const chat = await gw.openai().chat.completions.create({ model: 'chat', messages: hi });
    expect(chat.choices[0]!.finish_reason).toBe('stop');
    const message = await gw.anthropic(TEAM_KEY).messages.create({ model: 'claude', max_tokens: 100, messages: hi });
    expect(message.stop_reason).toBe('end_turn');
    expect((await fetch(`${gw.adminUrl}/healthz`)).status).toBe(200);
  });
});
