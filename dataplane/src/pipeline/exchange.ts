// The per-request context that flows through dispatch and relay.
import type { ServerResponse } from 'node:http';
import type { RuntimeState, ClientPrincipal, DeploymentTarget } from '../config/runtime-state.js';
import type { JsonObject, Operation, Wire } from '../providers/types.js';
import type { RequestTrace } from '../telemetry/tracing.js';
import type { AliasDecision } from '../routing/rollout/alias-router.js';
import type { RouteClass } from '../telemetry/route-class.js';

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
  /** This request's spans; undefined when tracing is off. */
  readonly trace?: RequestTrace;
}

/** One routing decision: the deployment a try went to and why, and how the try failed. */
export interface RoutedTry {
  readonly target: DeploymentTarget;
  readonly route: RouteClass;
  /** Short upstream reason ("503", "first-byte timeout"); undefined when it answered or the client left. */
  readonly failure?: string;
}

/** A deployment a routing decision passed over. */
export interface SkippedDeployment {
  readonly target: DeploymentTarget;
  readonly route: 'cooldown-skip' | 'limit-skip';
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
  /** A virtual alias: which routing model picked the alias, and what the shadow models decided. */
  aliasDecision?: AliasDecision;
  /** Class of the decision that ended the request (the answering try's, the last skip's, or shed). */
  route?: RouteClass;
  /** Every try in order; the last one answered when `deployment` is set. */
  tries?: readonly RoutedTry[];
  skipped?: readonly SkippedDeployment[];
  /** performance.now() when a streamed answer's first chunk was relayed to the client. */
  firstChunkAt?: number;
}
