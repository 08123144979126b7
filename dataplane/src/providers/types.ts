// The contract between the request pipeline and the provider folders. A provider describes how
// to reach one upstream API family; translators convert between client and upstream wire formats
// when they differ. Nothing here does I/O: the pipeline owns sockets, timers and retries.
import type { Deployment, ProviderKind } from '@switchboard/crds/runtime';

/** The wire format a client speaks to the gateway, or an upstream speaks natively. */
export type Wire = 'openai' | 'anthropic';

/** What the client asked for, named by endpoint. */
export type Operation = 'chat' | 'completions' | 'embeddings' | 'messages';

/** The wire each client-facing operation uses. */
export const operationWire: Record<Operation, Wire> = {
  chat: 'openai',
  completions: 'openai',
  embeddings: 'openai',
  messages: 'anthropic',
};

/** A JSON object as parsed from a request or response body. */
export type JsonObject = Record<string, unknown>;

/** Everything needed to send one upstream HTTP request (the pipeline adds timeouts and tracing). */
export interface UpstreamRequest {
  /** Absolute URL. */
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

export interface ProviderSpec {
  kind: ProviderKind;
  /** Wire format the upstream speaks. */
  wire: Wire;
  /** Native operations this upstream serves (in its own wire). */
  operations: ReadonlySet<Operation>;
  /**
   * Builds the upstream request for `body`, already in this provider's wire, with the upstream
   * model name set. `apiKey` is resolved by the pipeline from the deployment's credentials.
   */
  prepare(op: Operation, body: JsonObject, deployment: Deployment, apiKey: string | undefined): UpstreamRequest;
}

/** Token usage in one shape for accounting, whatever the wire. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** One server-sent event. `event` is absent for OpenAI streams. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Converts a stream from one wire to another, one upstream event at a time. Returns the SSE
 * text (zero or more complete events) to write to the client right away: nothing is buffered
 * beyond the current event.
 */
export interface StreamTranslator {
  push(event: SseEvent): string;
  /** Called once when the upstream stream ended cleanly; returns any closing events. */
  end(): string;
  /** Usage seen so far (final once end() returned). */
  usage(): Usage | undefined;
}

/** Converts between a client wire and an upstream wire for one operation family. */
export interface Translator {
  from: Wire;
  to: Wire;
  /** Client request body -> upstream request body (model name left as given by the client). */
  request(body: JsonObject): JsonObject;
  /** Upstream non-streamed response body -> client response body. */
  response(body: JsonObject, clientModel: string): JsonObject;
  /** A translator for one streamed response. */
  stream(clientModel: string, includeUsage: boolean): StreamTranslator;
  /** Upstream error body -> client error body (the status code is kept). */
  error(status: number, body: unknown): JsonObject;
}
