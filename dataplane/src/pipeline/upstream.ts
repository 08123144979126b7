// One upstream try over undici: sends the request, waits for the response headers within the
// per-try first-byte timeout, and classifies the outcome. The body is left unread for the relay.
import type { Dispatcher } from 'undici';
import { Agent, errors as undiciErrors, kQueuedAbort } from './undici-core.js';
import { UpstreamAnswer } from './upstream-answer.js';
import { parseRetryAfter } from '../http/retry-after.js';
import type { UpstreamRequest } from '../providers/types.js';

export type TryOutcome =
  | { kind: 'response'; status: number; body: UpstreamAnswer; ttfbMs: number }
  | {
      kind: 'failure';
      /** Retry elsewhere (connect error, timeout, 429, 5xx) or give the client the upstream's answer. */
      retryable: boolean;
      /** Short, secret-free description, e.g. "500", "connect ECONNREFUSED", "first-byte timeout". */
      reason: string;
      status?: number;
      retryAfterMs?: number;
      /** Upstream error body, for non-retryable client errors. */
      errorBody?: string;
    };

const agents = new Map<number, Agent>();

/** One keep-alive connection pool per connect timeout in use. */
export function agentFor(connectMs: number): Agent {
  let agent = agents.get(connectMs);
  if (!agent) {
    agent = new Agent({ connect: { timeout: connectMs }, keepAliveTimeout: 30_000, pipelining: 1 });
    agents.set(connectMs, agent);
  }
  return agent;
}

export async function closeAgents(): Promise<void> {
  await Promise.all([...agents.values()].map((a) => a.close()));
  agents.clear();
}

function describeError(error: unknown): string {
  if (error instanceof undiciErrors.HeadersTimeoutError) return 'first-byte timeout';
  if (error instanceof undiciErrors.ConnectTimeoutError) return 'connect timeout';
  if (error instanceof undiciErrors.RequestAbortedError || (error as Error).name === 'AbortError') return 'aborted';
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `connect ${code}` : 'upstream error';
}

/**
 * Upstream statuses that say the deployment, not the request, is wrong (bad credentials, a
 * model or route it does not have): try another deployment rather than blame the client.
 */
const DEPLOYMENT_FAULTS = new Set([401, 403, 404, 408, 429]);

export async function sendUpstream(
  upstream: UpstreamRequest,
  opts: { dispatcher: Dispatcher; firstByteMs: number; idleMs: number; signal: AbortSignal },
): Promise<TryOutcome> {
  const started = performance.now();
  const answer = new UpstreamAnswer(opts.idleMs);
  // Our own first-byte timer: undici's timers have a one-second resolution, too coarse for
  // sub-second per-try timeouts, and its headers and body timeouts are off (see UpstreamAnswer).
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    answer.abort();
  }, opts.firstByteMs);
  // The answer stays tied to the request's signal: a client that leaves aborts the relay.
  const onAbort = (): void => answer.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  if (opts.signal.aborted) answer.abort();
  else {
    const url = new URL(upstream.url);
    opts.dispatcher.dispatch(
      {
        origin: url.origin,
        path: url.pathname + url.search,
        method: upstream.method as Dispatcher.HttpMethod,
        headers: upstream.headers,
        body: upstream.body,
        headersTimeout: 0,
        bodyTimeout: 0,
        [kQueuedAbort]: answer.onQueued,
      } as Dispatcher.DispatchOptions,
      answer,
    );
  }
  try {
    await answer.started;
  } catch (error) {
    opts.signal.removeEventListener('abort', onAbort);
    const reason = timedOut ? 'first-byte timeout' : describeError(error);
    return { kind: 'failure', retryable: reason !== 'aborted', reason };
  } finally {
    clearTimeout(timer);
  }
  answer.onDone(() => opts.signal.removeEventListener('abort', onAbort));
  const ttfbMs = performance.now() - started;
  const status = answer.status;
  if (status < 400) return { kind: 'response', status, body: answer, ttfbMs };
  const errorBody = await answer.text().catch(() => '');
  const retryable = status >= 500 || DEPLOYMENT_FAULTS.has(status);
  return {
    kind: 'failure',
    retryable,
    reason: String(status),
    status,
    retryAfterMs: parseRetryAfter(answer.headers['retry-after'], Date.now()),
    errorBody,
  };
}
