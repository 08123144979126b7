// Graceful shutdown as a small state machine: the clock and the I/O are passed in, so the
// sequence (fail readiness, keep accepting, stop accepting, drain to a deadline, end what is
// left) is unit-tested without sockets or real time.

/** A stream the relay is writing; the shutdown can end it with a final retryable event. */
export interface ActiveStream {
  /** Ends the stream soon with a final well-formed event; safe to call more than once. */
  end(): void;
}

/** The streams in flight, so the shutdown can end the ones still open at the deadline. */
export class StreamRegistry {
  private readonly streams = new Set<ActiveStream>();

  /** Registers a stream; call the returned function when it is over. */
  add(stream: ActiveStream): () => void {
    this.streams.add(stream);
    return () => void this.streams.delete(stream);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends every registered stream; returns how many were asked to end. */
  endAll(): number {
    const n = this.streams.size;
    for (const stream of this.streams) stream.end();
    return n;
  }
}

export type ShutdownPhase =
  /** Serving normally. */
  | 'serving'
  /** SIGTERM received: readiness fails, connections are still accepted (endpoint propagation). */
  | 'delaying'
  /** The listener is closed; in-flight requests and streams finish. */
  | 'draining'
  /** The deadline passed: open streams were told to end; what is left gets cut after a grace. */
  | 'ending'
  | 'stopped';

export interface ShutdownTiming {
  drainDelayMs: number;
  /** Drain deadline, measured from the start of the shutdown (never before the delay ends). */
  maxStreamDurationMs: number;
  /** After the deadline: time for the final events to flush before connections are destroyed. */
  endGraceMs: number;
}

export interface ShutdownClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ShutdownActions {
  /** Close the listener and idle keep-alive connections. */
  stopAccepting(): void;
  /** Tell every open stream to end with its final event. */
  endStreams(): void;
  /** Destroy every connection still open. */
  forceClose(): void;
}

export const realClock: ShutdownClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class GracefulShutdown {
  private current: ShutdownPhase = 'serving';
  private startedAt: number | undefined;
  private readonly timers = new Set<unknown>();
  private idle = false;
  private resolveStopped!: () => void;
  /** Resolves once the phase is `stopped`. */
  readonly stopped: Promise<void> = new Promise((resolve) => (this.resolveStopped = resolve));

  constructor(
    private readonly actions: ShutdownActions,
    private readonly clock: ShutdownClock = realClock,
  ) {}

  get phase(): ShutdownPhase {
    return this.current;
  }

  /** True from the start of the shutdown: readiness fails. */
  get shuttingDown(): boolean {
    return this.current !== 'serving';
  }

  /** True once the listener is closed: responses should carry `Connection: close`. */
  get closing(): boolean {
    return this.current === 'draining' || this.current === 'ending' || this.current === 'stopped';
  }

  /** Milliseconds since the shutdown began (undefined while serving). */
  elapsedMs(): number | undefined {
    return this.startedAt === undefined ? undefined : this.clock.now() - this.startedAt;
  }

  /** Starts the sequence (a second call does nothing) and resolves when it is over. */
  begin(timing: ShutdownTiming): Promise<void> {
    if (this.current !== 'serving') return this.stopped;
    this.startedAt = this.clock.now();
    this.current = 'delaying';
    const deadlineMs = Math.max(timing.drainDelayMs, timing.maxStreamDurationMs);
    this.after(timing.drainDelayMs, () => this.stopAccepting());
    this.after(deadlineMs, () => this.deadline(timing.endGraceMs));
    return this.stopped;
  }

  /** Skips to the deadline (a second signal): open streams end now. */
  expedite(endGraceMs: number): void {
    if (this.current === 'delaying') this.stopAccepting();
    if (this.current === 'draining') this.deadline(endGraceMs);
  }

  /** The wiring reports that no connection is left (the closed listener's callback). */
  drained(): void {
    this.idle = true;
    if (this.current === 'draining' || this.current === 'ending') this.stop();
  }

  private after(ms: number, fn: () => void): void {
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    this.timers.add(handle);
  }

  private stopAccepting(): void {
    if (this.current !== 'delaying') return;
    this.current = 'draining';
    this.actions.stopAccepting();
    if (this.idle) this.stop();
  }

  private deadline(endGraceMs: number): void {
    if (this.current !== 'draining') return;
    this.current = 'ending';
    this.actions.endStreams();
    this.after(endGraceMs, () => {
      if (this.current === 'ending') this.actions.forceClose();
    });
  }

  private stop(): void {
    if (this.current === 'stopped') return;
    this.current = 'stopped';
    for (const handle of this.timers) this.clock.clearTimeout(handle);
    this.timers.clear();
    this.resolveStopped();
  }
}
