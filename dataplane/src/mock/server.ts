// The mock LLM provider: one node:http server speaking the OpenAI, Azure OpenAI and Anthropic
// wire formats, with pacing and injectable faults. The only upstream end-to-end tests may use.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicModelList, message, messagesReply, messageStreamFrames, parseMessages } from './anthropic.js';
import { planText, replyTokens, type Reply } from './content.js';
import { authMessage, errorBody, type Family } from './errors.js';
import { FAULT_HEADER, faultName, parseFault, requestFault, type Fault, type FaultDefaults } from './faults.js';
import { parseObject, stringField, type JsonObject } from './json.js';
import { resolveOptions, type MockOptions } from './options.js';
import {
  chatCompletion,
  chatReply,
  chatStreamFrames,
  completionStreamFrames,
  embeddingList,
  modelList,
  parseChat,
  parseCompletion,
  parseEmbedding,
  textCompletion,
  type RequestError,
  type ResponseContext,
} from './openai.js';
import { afterDelay, gapMs, responseDelayMs, writeFrames } from './pacing.js';
import { seededRandom } from '../seeded-random.js';
import { fingerprint, TrafficLog, type MockRequestRecord, type MockStats } from './stats.js';

export type { MockOptions } from './options.js';
export type { MockStats, MockRequestRecord } from './stats.js';

export interface MockServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (append /v1 for OpenAI and Anthropic clients). */
  url: string;
  port: number;
  stats(): MockStats;
  close(): Promise<void>;
}

type Operation = 'chat' | 'completions' | 'embeddings' | 'messages' | 'models';

interface Route {
  family: Family;
  op: Operation;
  /** Azure deployment name from the path: it is the model. */
  deployment: string | undefined;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MODELS_CREATED = 1_700_000_000;
const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/;
const AZURE_OPS: Record<string, Operation> = { 'chat/completions': 'chat', completions: 'completions', embeddings: 'embeddings' };
const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';

function route(method: string, path: string, req: IncomingMessage): Route | undefined {
  switch (path) {
    case '/v1/chat/completions':
      return { family: 'openai', op: 'chat', deployment: undefined };
    case '/v1/completions':
      return { family: 'openai', op: 'completions', deployment: undefined };
    case '/v1/embeddings':
      return { family: 'openai', op: 'embeddings', deployment: undefined };
    case '/v1/messages':
      return { family: 'anthropic', op: 'messages', deployment: undefined };
    case '/v1/models':
      return { family: req.headers['anthropic-version'] ? 'anthropic' : 'openai', op: 'models', deployment: undefined };
  }
  const azure = AZURE_PATH.exec(path);
  if (azure && method === 'POST') {
    return { family: 'azure', op: AZURE_OPS[azure[2] ?? ''] ?? 'chat', deployment: decodeURIComponent(azure[1] ?? '') };
  }
  return undefined;
}

/**
 * The credential presented in the family's header, if any. Anthropic takes `x-api-key` or a
 * bearer token: @anthropic-ai/sdk v1 sends its apiKey as `Authorization: Bearer`.
 */
function credentialOf(family: Family, req: IncomingMessage): string | undefined {
  if (family === 'azure') return single(req.headers['api-key']);
  if (family === 'anthropic') return single(req.headers['x-api-key']) ?? bearer(req);
  return bearer(req);
}

function bearer(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  return auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, record: MockRequestRecord | undefined, status: number, body: string, headers?: Record<string, string>): void {
  if (record) record.status = status;
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendError(res: ServerResponse, record: MockRequestRecord | undefined, family: Family, status: number, message: string, param: string | null = null, headers?: Record<string, string>): void {
  sendJson(res, record, status, errorBody(family, status, message, param), headers);
}

function readBody(req: IncomingMessage, done: (body: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('end', () => done(size > MAX_BODY_BYTES ? undefined : chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
}

class MockProvider {
  private readonly log: TrafficLog;
  private random: () => number;
  private readonly configuredFault: Fault | undefined;
  private readonly defaults: FaultDefaults;
  private readonly gap: number;
  private seq = 0;
  private readonly concurrency = { active: 0, peak: 0, refused: 0 };

  constructor(private readonly options: MockOptions) {
    this.log = new TrafficLog(options.historySize);
    this.random = seededRandom(options.seed);
    this.defaults = {
      retryAfterSeconds: options.retryAfterSeconds,
      slowHeadersMs: options.slowHeadersMs,
      resetAfterChunks: options.resetAfterChunks,
    };
    const fault = options.fault === undefined ? undefined : parseFault(options.fault, this.defaults);
    if (typeof fault === 'string') throw new RangeError(`mock option fault: ${fault}`);
    this.configuredFault = fault;
    this.gap = gapMs(options.tokensPerSecond);
  }

  stats(): MockStats {
    return { ...this.log.snapshot(), concurrency: { ...this.concurrency } };
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (path.startsWith('/mock/')) {
      req.resume();
      this.control(method, path, res);
      return;
    }
    const r = route(method, path, req);
    if (r === undefined) {
      req.resume();
      const family: Family = req.headers['anthropic-version'] ? 'anthropic' : path.startsWith('/openai/') ? 'azure' : 'openai';
      sendError(res, undefined, family, 404, `Unknown request URL: ${method} ${path}.`);
      return;
    }
    const wantMethod = r.op === 'models' ? 'GET' : 'POST';
    if (method !== wantMethod) {
      req.resume();
      sendError(res, undefined, r.family, 405, `Method ${method} not allowed on ${path}; use ${wantMethod}.`);
      return;
    }
    if (r.op === 'models') {
      req.resume();
      this.api(req, res, r, path, q < 0 ? '' : url.slice(q + 1), {});
      return;
    }
    readBody(req, (text) => {
      if (text === undefined) {
        sendError(res, undefined, r.family, 413, `Request body larger than ${MAX_BODY_BYTES} bytes.`);
        return;
      }
      const body = parseObject(text);
      if (body === undefined) {
        sendError(res, undefined, r.family, 400, 'We could not parse the JSON body of your request. The request body must be a JSON object.');
        return;
      }
      this.api(req, res, r, path, q < 0 ? '' : url.slice(q + 1), body);
    });
  }

  private control(method: string, path: string, res: ServerResponse): void {
    if (method === 'GET' && path === '/mock/stats') sendJson(res, undefined, 200, JSON.stringify(this.stats()));
    else if (method === 'POST' && path === '/mock/reset') {
      this.log.reset();
      this.concurrency.peak = 0;
      this.concurrency.refused = 0;
      this.random = seededRandom(this.options.seed);
      sendJson(res, undefined, 200, '{"reset":true}');
    } else if (method === 'GET' && path === '/mock/health') sendJson(res, undefined, 200, '{"status":"ok"}');
    else sendError(res, undefined, 'openai', 404, `Unknown mock endpoint: ${method} ${path}.`);
  }

  private api(req: IncomingMessage, res: ServerResponse, r: Route, path: string, query: string, body: JsonObject): void {
    const headers = req.headers;
    const credential = credentialOf(r.family, req);
    const record: MockRequestRecord = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path,
      model: r.deployment ?? stringField(body, 'model') ?? null,
      stream: body.stream === true,
      credential: credential === undefined ? null : fingerprint(credential),
      headers: {},
      fault: null,
      status: null,
    };
    for (const name of ['traceparent', 'tracestate', 'baggage'] as const) {
      const value = single(headers[name]);
      if (value !== undefined) record.headers[name] = value;
    }
    const requestId = single(headers['x-request-id']);
    if (requestId !== undefined) record.headers['x-request-id'] = requestId;
    this.log.record(record);

    if (this.options.apiKey !== undefined && credential !== this.options.apiKey) {
      sendError(res, record, r.family, 401, authMessage(r.family));
      return;
    }
    if (r.family === 'azure' && !new URLSearchParams(query).get('api-version')) {
      sendJson(res, record, 400, JSON.stringify({ error: { code: 'BadRequest', message: 'Missing API version parameter: add ?api-version= to the request URL.' } }));
      return;
    }
    if (r.family === 'anthropic' && headers['anthropic-version'] === undefined) {
      sendError(res, record, r.family, 400, 'anthropic-version: header is required');
      return;
    }
    if (r.op !== 'models' && !this.enter(res)) {
      sendError(res, record, r.family, 429, `Too many concurrent requests (mock limit ${this.options.maxConcurrency}).`, null, { 'retry-after': String(this.options.retryAfterSeconds) });
      return;
    }
    const fault = requestFault(single(headers[FAULT_HEADER]), this.configuredFault, this.options.failRate, this.random, this.defaults);
    if (typeof fault === 'string') {
      sendError(res, record, r.family, 400, fault);
      return;
    }
    if (fault !== undefined) record.fault = faultName(fault);
    switch (fault?.kind) {
      case 'hang':
        return;
      case 'status': {
        const extra: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
        const text = fault.status === 429 ? 'Rate limit reached for requests (mock fault).' : `The server had an error while processing your request (mock fault ${fault.status}).`;
        sendError(res, record, r.family, fault.status, text, null, extra);
        return;
      }
      case 'slow-headers':
        afterDelay(res, fault.delayMs, () => this.respond(res, r, body, record, undefined));
        return;
      default:
        this.respond(res, r, body, record, fault?.kind === 'reset' ? fault.afterChunks : undefined);
    }
  }

  /** Takes a concurrency slot until the response closes; false when --max-concurrency is reached. */
  private enter(res: ServerResponse): boolean {
    const c = this.concurrency;
    if (this.options.maxConcurrency > 0 && c.active >= this.options.maxConcurrency) {
      c.refused++;
      return false;
    }
    c.active++;
    c.peak = Math.max(c.peak, c.active);
    res.once('close', () => c.active--);
    return true;
  }

  private respond(res: ServerResponse, r: Route, body: JsonObject, record: MockRequestRecord, resetAfter: number | undefined): void {
    const n = ++this.seq;
    const family = r.family;
    if (r.op === 'models') {
      const list = family === 'anthropic' ? anthropicModelList(this.options.models, '2025-01-01T00:00:00Z') : modelList(this.options.models, MODELS_CREATED);
      sendJson(res, record, 200, JSON.stringify(list));
      return;
    }
    if (r.op === 'messages') {
      const request = parseMessages(body);
      if ('error' in request) return this.invalid(res, record, family, request);
      const reply = messagesReply(request, this.options.responseTokens, `toolu_mock${n}`);
      const id = `msg_mock${n}`;
      const requestId = { 'request-id': `req_mock${n}` };
      if (request.stream) this.stream(res, record, messageStreamFrames(id, request.model, request.promptTokens, reply), resetAfter, requestId);
      else this.later(res, record, reply, resetAfter, () => JSON.stringify(message(id, request.model, request.promptTokens, reply)), requestId);
      return;
    }
    const created = Math.floor(Date.now() / 1000);
    const requestId = { 'x-request-id': `req_mock${n}` };
    const azure = family === 'azure';
    if (r.op === 'embeddings') {
      const request = parseEmbedding(body, r.deployment);
      if ('error' in request) return this.invalid(res, record, family, request);
      if (resetAfter !== undefined) afterDelay(res, this.options.ttftMs, () => res.destroy());
      else afterDelay(res, this.options.ttftMs, () => sendJson(res, record, 200, JSON.stringify(embeddingList(request)), requestId));
      return;
    }
    if (r.op === 'completions') {
      const request = parseCompletion(body, r.deployment);
      if ('error' in request) return this.invalid(res, record, family, request);
      const ctx: ResponseContext = { id: `cmpl-mock${n}`, created, model: request.model, azure };
      const reply = planText(this.options.responseTokens, request.maxTokens);
      if (request.stream) this.stream(res, record, completionStreamFrames(ctx, request.promptTokens, reply, request.includeUsage), resetAfter, requestId);
      else this.later(res, record, reply, resetAfter, () => JSON.stringify(textCompletion(ctx, request.promptTokens, reply)), requestId);
      return;
    }
    const request = parseChat(body, r.deployment);
    if ('error' in request) return this.invalid(res, record, family, request);
    const ctx: ResponseContext = { id: `chatcmpl-mock${n}`, created, model: request.model, azure };
    const reply = chatReply(request, this.options.responseTokens, `call_mock${n}`);
    if (request.stream) this.stream(res, record, chatStreamFrames(ctx, request.promptTokens, reply, request.includeUsage), resetAfter, requestId);
    else this.later(res, record, reply, resetAfter, () => JSON.stringify(chatCompletion(ctx, request.promptTokens, reply)), requestId);
  }

  private invalid(res: ServerResponse, record: MockRequestRecord, family: Family, error: RequestError): void {
    sendError(res, record, family, 400, error.error, error.param);
  }

  /** A non-streamed response, sent whole once the reply would have been generated. */
  private later(res: ServerResponse, record: MockRequestRecord, reply: Reply, resetAfter: number | undefined, body: () => string, headers: Record<string, string>): void {
    const delay = responseDelayMs(this.options.ttftMs, this.options.tokensPerSecond, replyTokens(reply));
    if (resetAfter !== undefined) afterDelay(res, delay, () => res.destroy());
    else afterDelay(res, delay, () => sendJson(res, record, 200, body(), headers));
  }

  /** A streamed response: headers at once, frames paced by ttft and tokens per second. */
  private stream(res: ServerResponse, record: MockRequestRecord, frames: readonly string[], resetAfter: number | undefined, headers: Record<string, string>): void {
    record.status = 200;
    res.writeHead(200, { 'content-type': SSE_TYPE, 'cache-control': 'no-cache', ...headers });
    const plan = { ttftMs: this.options.ttftMs, gapMs: this.gap, resetAfter, stamp: this.options.stampEvents };
    if (plan.ttftMs > 0 || plan.gapMs > 0) res.flushHeaders();
    writeFrames(res, frames, plan);
  }
}

/** Starts the mock on `options.host:options.port` (defaults: 127.0.0.1, a free port). */
export async function startMock(options: Partial<MockOptions> = {}): Promise<MockServer> {
  const resolved = resolveOptions(options);
  const provider = new MockProvider(resolved);
  const server = createServer((req, res) => provider.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(resolved.port, resolved.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => provider.stats(),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Hung and streaming requests would otherwise keep the server open forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
