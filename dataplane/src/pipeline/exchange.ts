// The per-request context that flows through dispatch and relay.
import type { ServerResponse } from 'node:http';
import type { RuntimeState, ClientPrincipal } from '../config/runtime-state.js';
import type { JsonObject, Operation, Wire } from '../providers/types.js';

export interface Exchange {
  readonly op: Operation;
  /** Wire the client speaks (from the endpoint). */
  readonly clientWire: Wire;
  readonly body: JsonObject;
  /** Alias the client asked for. */
  readonly model: string;
  readonly stream: boolean;
  /** OpenAI clients: whether a final usage chunk was asked for. */
  readonly includeUsage: boolean;
  /** Rough prompt size used for TPM limits and context-window checks (bytes / 4). */
  readonly estimatedPromptTokens: number;
  readonly maxOutputTokens: number | undefined;
  readonly requestId: string;
  readonly principal: ClientPrincipal | undefined;
  /** The config snapshot this request runs on from start to end. */
  readonly state: RuntimeState;
  readonly res: ServerResponse;
  /** Aborted when the client goes away or the total deadline passes. */
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/** What the request ended with, for metrics, logs and tests. */
export interface ExchangeResult {
  status: number;
  /** Upstream time to first byte of the try that answered. */
  ttfbMs?: number;
  alias?: string;
  deployment?: string;
  reason: string;
  attempts: number;
  inputTokens?: number;
  outputTokens?: number;
}
