// Process guards: while the event loop lags or the V8 heap fills, shed sheddable requests, then
// standard ones; critical ones are always let through. Sampled on an interval, never per request.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { Priority } from './admission.js';

export interface ProcessSample {
  /** p99 event-loop delay over the last interval, ms. */
  eventLoopDelayMs: number;
  /** V8 heap used / heap size limit. */
  heapUsedRatio: number;
}

export interface GuardThresholds {
  eventLoopDelayMs?: { sheddable: number; standard: number } | undefined;
  heapUsedRatio?: { sheddable: number; standard: number } | undefined;
}

export type GuardReason = 'event_loop_delay' | 'heap';

/** 0: admit all; 1: shed sheddable; 2: shed sheddable and standard. */
export type GuardLevel = 0 | 1 | 2;

export interface GuardState {
  level: GuardLevel;
  reason: GuardReason | undefined;
}

const levelOf = (value: number, t: { sheddable: number; standard: number } | undefined): GuardLevel =>
  t === undefined ? 0 : value > t.standard ? 2 : value > t.sheddable ? 1 : 0;

/** The guard state a sample puts the process in (the worse of the two guards). */
export function guardState(sample: ProcessSample, thresholds: GuardThresholds): GuardState {
  const delay = levelOf(sample.eventLoopDelayMs, thresholds.eventLoopDelayMs);
  const heap = levelOf(sample.heapUsedRatio, thresholds.heapUsedRatio);
  if (delay === 0 && heap === 0) return { level: 0, reason: undefined };
  return delay >= heap ? { level: delay, reason: 'event_loop_delay' } : { level: heap, reason: 'heap' };
}

const SHED_AT: Record<Priority, number> = { critical: Number.POSITIVE_INFINITY, standard: 2, sheddable: 1 };

/** The reason to shed a request of `priority` in `state`, or undefined to let it through. */
export function guardSheds(state: GuardState, priority: Priority): GuardReason | undefined {
  return state.level >= SHED_AT[priority] ? state.reason : undefined;
}

const RESOLUTION_MS = 10;

/** Reads the event-loop delay histogram (then resets it) and the heap statistics. */
export function processSampler(): { sample(): ProcessSample; stop(): void } {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  return {
    sample() {
      // The histogram records the timer period too: what is above it is the delay.
      const p99 = histogram.count > 0 ? Math.max(0, histogram.percentile(99) / 1e6 - RESOLUTION_MS) : 0;
      histogram.reset();
      const heap = getHeapStatistics();
      return { eventLoopDelayMs: p99, heapUsedRatio: heap.used_heap_size / heap.heap_size_limit };
    },
    stop() {
      histogram.disable();
    },
  };
}

/** Feeds a process sample to `observe` every `intervalMs` (the timer never holds the process open); returns stop. */
export function sampleOnInterval(observe: (sample: ProcessSample) => void, intervalMs: number): () => void {
  const sampler = processSampler();
  const timer = setInterval(() => observe(sampler.sample()), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    sampler.stop();
  };
}
