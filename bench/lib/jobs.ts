// What the orchestrator asks of the load generator process, and what it answers.

/** One HTTP endpoint under test and the request sent to it. */
export interface Target {
  name: string;
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Closed loop, one connection, one request at a time: latency without queueing. */
export interface SequentialJob {
  kind: 'sequential';
  target: Target;
  count: number;
}

/** Closed loop, `concurrency` connections each sending back to back: maximum throughput. */
export interface ClosedJob {
  kind: 'closed';
  target: Target;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

/** Open loop: requests start on a fixed schedule whatever the responses do. */
export interface OpenJob {
  kind: 'open';
  target: Target;
  rate: number;
  durationMs: number;
  connections: number;
  /**
   * Sent at the same rate before the measured schedule and not counted: the step's connections
   * are opened and warm when measuring starts (default 0).
   */
  warmupMs?: number;
}

/** SSE streams; `concurrency` workers per target, all targets at once (interleaved). */
export interface StreamsJob {
  kind: 'streams';
  targets: Target[];
  perTarget: number;
  concurrency: number;
  /**
   * Spread the workers' first starts over this long: a burst of connects is another test, and
   * streams started in the same millisecond stay in phase, so their chunks arrive in bursts.
   */
  rampMs?: number;
}

export type Job = SequentialJob | ClosedJob | OpenJob | StreamsJob;

export interface SequentialResult {
  kind: 'sequential';
  latencies: number[];
  errors: number;
}

export interface ThroughputResult {
  kind: 'closed' | 'open';
  /** Requests scheduled (open loop) or started (closed loop) in the measured window. */
  offered: number;
  completed: number;
  errors: number;
  /** First error, for the report. */
  firstError: string | undefined;
  elapsedMs: number;
  rps: number;
  /** Open loop: from the scheduled send time, in schedule order, NaN for errors; closed loop: from the actual send time. */
  latencies: number[];
  /** Open loop: how late the generator itself started requests (its own health). */
  maxSendLagMs: number;
}

export interface StreamRecord {
  /** Request start to the first body bytes. */
  ttftMs: number;
  /** Gaps between consecutive body reads after the first. */
  gaps: number[];
  /**
   * With a mock started with --stamp-events: the time to first token less the mock's own wait
   * before its first write (what the path to the mock and back took), and for each later read
   * how much longer its gap was than the gap between the mock's two writes (what the path
   * stretched it by). Read in the monotonic clock every process shares. Without stamps: NaN
   * (null once it crosses IPC, hence `finite`) and [].
   */
  pathTtftMs: number;
  stretches: number[];
  reads: number;
  events: number;
  complete: boolean;
}

export interface StreamsResult {
  kind: 'streams';
  byTarget: Record<string, { streams: StreamRecord[]; errors: number; firstError: string | undefined }>;
  elapsedMs: number;
}

export type JobResult = SequentialResult | ThroughputResult | StreamsResult;
