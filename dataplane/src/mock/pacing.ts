// Timing: when each frame of a response is written. Timers only (never blocking), scheduled
// against a start time so that sub-millisecond gaps still average to the requested rate.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Milliseconds between tokens at `tokensPerSecond` (0 or Infinity: no gap). */
export function gapMs(tokensPerSecond: number): number {
  return tokensPerSecond > 0 && Number.isFinite(tokensPerSecond) ? 1000 / tokensPerSecond : 0;
}

/** When a non-streamed response of `tokens` tokens is sent: ttft plus generation time. */
export function responseDelayMs(ttftMs: number, tokensPerSecond: number, tokens: number): number {
  return ttftMs + tokens * gapMs(tokensPerSecond);
}

/** Runs `fn` after `ms`, or at once for 0; skipped if the response closes first. */
export function afterDelay(res: ServerResponse, ms: number, fn: () => void): void {
  if (ms <= 0) {
    fn();
    return;
  }
  const timer = setTimeout(fn, ms);
  res.once('close', () => clearTimeout(timer));
}

/**
 * Distributes `bodies` (one per token) over frames, the preamble joined to the first and the
 * epilogue to the last, so that frame i is written when token i is due.
 */
export function assembleFrames(preamble: string, bodies: readonly string[], epilogue: string): string[] {
  if (bodies.length === 0) return [preamble + epilogue];
  const frames = bodies.slice();
  frames[0] = preamble + frames[0];
  frames[frames.length - 1] += epilogue;
  return frames;
}


export interface StreamPlan {
  /** Delay before the first frame (headers are already sent). */
  ttftMs: number;
  /** Delay between frames. */
  gapMs: number;
  /** Destroy the connection after this many frames instead of finishing (fault "reset"). */
  resetAfter: number | undefined;
  /** Begin each write with the stamp comment of `stampComment` (--stamp-events). */
  stamp: boolean;
}

/**
 * An SSE comment (clients skip it) with the monotonic clock in ns, which every process on the
 * host shares: when the stream began (headers sent) and when this write is made. A client that
 * notes its own clock on reading it knows how long the bytes took to reach it, without the time
 * the mock spent pacing.
 */
function stampComment(streamStart: bigint): string {
  return `: stream-start=${streamStart} sent=${process.hrtime.bigint()}\n`;
}

/** Writes `frames` on the schedule of `plan`, then ends the response (or resets it). */
export function writeFrames(res: ServerResponse, frames: readonly string[], plan: StreamPlan): void {
  const limit = plan.resetAfter === undefined ? frames.length : Math.max(0, Math.min(plan.resetAfter, frames.length - 1));
  const streamStart = process.hrtime.bigint();
  const stamped = (out: string): string => (plan.stamp && out.length > 0 ? stampComment(streamStart) + out : out);
  const finish = (unstamped: string): void => {
    const out = stamped(unstamped);
    if (plan.resetAfter === undefined) res.end(out);
    // Destroy only once the chunks are flushed, so the client sees them before the cut.
    else if (out.length > 0) res.write(out, () => res.destroy());
    else res.destroy();
  };
  if (plan.ttftMs <= 0 && plan.gapMs <= 0) {
    finish(limit === frames.length ? frames.join('') : frames.slice(0, limit).join(''));
    return;
  }
  const start = performance.now();
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const elapsed = performance.now() - start;
    let out = '';
    // Everything already due goes out in one write: timers cannot fire faster than 1 ms.
    while (next < limit && plan.ttftMs + next * plan.gapMs <= elapsed + 0.5) out += frames[next++];
    if (next >= limit) {
      timer = undefined;
      finish(out);
      return;
    }
    if (out.length > 0) res.write(stamped(out));
    timer = setTimeout(tick, Math.max(0, plan.ttftMs + next * plan.gapMs - (performance.now() - start)));
  };
  res.once('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  });
  timer = setTimeout(tick, plan.ttftMs);
}
