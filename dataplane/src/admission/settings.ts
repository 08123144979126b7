// The runtime config's shedding section compiled into the gate's settings (durations in ms).
import { durationMs, type RuntimeShedding } from '@switchboard/crds/runtime';
import type { ClientSettings, SheddingSettings } from './gate.js';

export function compileShedding(shedding: RuntimeShedding | undefined): SheddingSettings | undefined {
  if (!shedding) return undefined;
  const max = shedding.maxConcurrency;
  const guards = shedding.guards;
  const retryAfterSeconds = Math.max(1, Math.ceil(durationMs(shedding.retryAfter) / 1000));
  return {
    key: JSON.stringify(shedding),
    concurrency:
      max === undefined
        ? undefined
        : {
            initialLimit: max,
            maxLimit: max,
            minLimit: Math.min(shedding.minConcurrency, max),
            maxQueue: shedding.queue.maxDepth,
            queueTimeoutMs: durationMs(shedding.queue.timeout),
            retryAfterSeconds,
          },
    retryAfterSeconds,
    clients: new Map<string, ClientSettings>(
      shedding.clients.map((c) => [
        c.key,
        { priority: c.priority, flow: { name: c.priorityClass ?? `key:${c.key}`, weight: c.weight }, requestsPerMinute: c.requestsPerMinute, tokensPerMinute: c.tokensPerMinute },
      ]),
    ),
    tokenBudget: shedding.tokenBudget,
    defaultMaxTokens: shedding.defaultMaxTokens,
    guards: guards && {
      intervalMs: durationMs(guards.interval),
      eventLoopDelayMs: guards.eventLoopDelay && { sheddable: durationMs(guards.eventLoopDelay.sheddable), standard: durationMs(guards.eventLoopDelay.standard) },
      heapUsedRatio: guards.heapUsed,
    },
  };
}
