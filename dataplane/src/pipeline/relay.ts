// Writes an upstream answer to the client: JSON as one body, streams event by event with no
// buffering beyond the event being parsed, translated when client and upstream wires differ.
import type { ServerResponse } from 'node:http';
import type { ChunkSource } from './upstream-answer.js';
import { SseParser } from '../sse/parser.js';
import { formatSse } from '../sse/format.js';
import type { StreamRegistry } from '../lifecycle/shutdown.js';
import { usageFromText, usageTap } from '../providers/index.js';
import type { JsonObject, SseEvent, Translator, Usage, Wire } from '../providers/types.js';

export type ResponseHeaders = Record<string, string>;

export function sendJson(res: ServerResponse, status: number, body: string, headers: ResponseHeaders): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Non-streamed success: returns the usage found in the upstream body. */
export function relayJson(
  res: ServerResponse,
  upstreamText: string,
  upstreamWire: Wire,
  translator: Translator | undefined,
  clientModel: string,
  headers: ResponseHeaders,
): Usage | undefined {
  const usage = usageFromText(upstreamWire, upstreamText);
  let body = upstreamText;
  if (translator) {
    let parsed: JsonObject | undefined;
    try {
      parsed = JSON.parse(upstreamText) as JsonObject;
    } catch {
      // Not JSON: relay what the upstream said rather than fail the request.
    }
    if (parsed) body = JSON.stringify(translator.response(parsed, clientModel));
  }
  sendJson(res, 200, body, headers);
  return usage;
}

/** OpenAI usage-only chunk (choices empty) that we asked for but the client did not. */
function isUsageOnlyChunk(event: SseEvent): boolean {
  return event.data.startsWith('{') && event.data.includes('"choices":[]') && event.data.includes('"usage"');
}

const LF = 10;
const CR = 13;

/** True when a chunk ends with the blank line that closes an SSE event. */
function endsEvent(chunk: Buffer): boolean {
  const n = chunk.length;
  if (n >= 2 && chunk[n - 1] === LF && chunk[n - 2] === LF) return true;
  return n >= 4 && chunk[n - 1] === LF && chunk[n - 2] === CR && chunk[n - 3] === LF && chunk[n - 4] === CR;
}

/** Bytes that mark the events a pass-through relay must look at: the ones carrying usage. */
const usageMarker: Record<Wire, Buffer> = { openai: Buffer.from('"prompt_tokens"'), anthropic: Buffer.from('"usage"') };
const emptyChoices = Buffer.from('"choices":[]');

export interface StreamRelayOptions {
  upstreamWire: Wire;
  clientWire: Wire;
  translator: Translator | undefined;
  clientModel: string;
  includeUsage: boolean;
  /** True when the gateway added include_usage upstream and must hide the usage chunk. */
  hideUsageChunk: boolean;
  /** An SSE comment is written when the stream was idle this long (0: no heartbeats). */
  heartbeatMs?: number;
  /** Where the stream registers so a shutdown can end it. */
  streams?: StreamRegistry;
  /** Stops reading the upstream (the shutdown ended the stream). */
  cancel?: () => void;
}

/** The comment written on idle streams so idle timeouts in front (load balancers) do not cut them. */
export const HEARTBEAT = ': keep-alive\n\n';

/**
 * Relays an SSE stream whose first chunk has already been read (so the try can no longer be
 * retried); the rest comes from the upstream answer, with the client's backpressure. On an
 * upstream failure mid-stream, ends with a well-formed error event.
 *
 * Pass-through streams take a fast path: a chunk made of whole events that carries no usage is
 * written as the very bytes received, without decoding; only the few chunks that carry usage (or
 * split events) go through the parser.
 */
export async function relayStream(
  res: ServerResponse,
  first: Buffer,
  rest: ChunkSource,
  headers: ResponseHeaders,
  opts: StreamRelayOptions,
): Promise<{ usage: Usage | undefined; completed: boolean }> {
  // No connection header here: Node sends keep-alive, or the `close` a draining gateway has set.
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const parser = new SseParser();
  const tap = opts.translator ? undefined : usageTap(opts.upstreamWire);
  const translating = opts.translator?.stream(opts.clientModel, opts.includeUsage);
  const marker = usageMarker[opts.upstreamWire];
  /** Everything before the next chunk ended an event: the parser holds nothing. */
  let atBoundary = true;

  const render = (events: SseEvent[]): string => {
    let out = '';
    for (const event of events) {
      if (translating) out += translating.push(event);
      else {
        tap!.push(event);
        if (!(opts.hideUsageChunk && isUsageOnlyChunk(event))) out += formatSse(event);
      }
    }
    return out;
  };
  // Each write is whole events, so a heartbeat may go between any two writes.
  const heartbeat =
    opts.heartbeatMs !== undefined && opts.heartbeatMs > 0
      ? setTimeout(function beat() {
          if (!res.writableEnded && !res.destroyed && !res.writableNeedDrain) res.write(HEARTBEAT);
          heartbeat!.refresh();
        }, opts.heartbeatMs)
      : undefined;
  /** False when the client is not keeping up: wait for 'drain' before the next write. */
  const write = (data: string | Buffer): boolean => {
    if (data.length === 0) return true;
    heartbeat?.refresh();
    return res.write(data);
  };
  let ending = false;
  const unregister = opts.streams?.add({
    end() {
      if (ending) return;
      ending = true;
      opts.cancel?.();
    },
  });
  const relay = (chunk: Buffer): boolean => {
    const whole = endsEvent(chunk);
    if (!translating && atBoundary && whole && chunk.indexOf(marker) === -1 && !(opts.hideUsageChunk && chunk.indexOf(emptyChoices) !== -1)) {
      return write(chunk);
    }
    atBoundary = whole;
    return write(render(parser.push(chunk)));
  };

  let completed = false;
  try {
    // forEach waits for a client that the first chunk filled before it hands over the next.
    relay(first);
    await rest.forEach(res, relay);
    if (ending) throw new Error('gateway shutdown');
    write(render(parser.end()) + (translating ? translating.end() : ''));
    completed = true;
  } catch (error) {
    if (!res.destroyed) res.write(ending ? shutdownEvent(opts.clientWire) : streamErrorEvent(opts.clientWire, error));
  } finally {
    if (heartbeat) clearTimeout(heartbeat);
    unregister?.();
  }
  res.end();
  return { usage: translating ? translating.usage() : tap!.usage(), completed };
}

/** A final, well-formed event telling the client the stream was cut and may be retried. */
export function streamErrorEvent(wire: Wire, error: unknown): string {
  const message = `upstream stream interrupted: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message ?? 'error'}`;
  if (wire === 'anthropic') {
    return formatSse({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message } }) });
  }
  return (
    formatSse({ data: JSON.stringify({ error: { message, type: 'api_error', param: null, code: 'stream_interrupted' } }) }) +
    formatSse({ data: '[DONE]' })
  );
}

/** The final event of a stream the gateway ends because it is shutting down: retry elsewhere. */
export function shutdownEvent(wire: Wire): string {
  const message = 'The gateway is shutting down and ended this stream; retry the request.';
  if (wire === 'anthropic') {
    return formatSse({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message } }) });
  }
  return (
    formatSse({ data: JSON.stringify({ error: { message, type: 'api_error', param: null, code: 'gateway_shutdown' } }) }) +
    formatSse({ data: '[DONE]' })
  );
}
