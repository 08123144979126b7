// What bench/overload/run.ts asks of its load generator: an open-loop schedule of phases, each
// request tagged with a client class (its own key), and every request's outcome.

export interface ClientClass {
  name: string;
  /** Bearer key; the gateway maps it to a priority class. */
  key: string;
  /** Share of the offered requests, 0..1 (shares add up to 1). */
  share: number;
}

export interface Phase {
  name: string;
  /** Requests per second, started on schedule whatever the responses do. */
  rate: number;
  durationMs: number;
}

export interface OverloadJob {
  kind: 'overload';
  origin: string;
  body: string;
  classes: ClientClass[];
  phases: Phase[];
  connections: number;
}

/** One entry per request, in schedule order (parallel arrays: cheap over IPC). */
export interface OverloadResult {
  kind: 'overload';
  /** Scheduled start, ms from the first phase's start. */
  at: number[];
  /** Index into the job's classes. */
  cls: number[];
  /** HTTP status; 0 for a connection error. */
  status: number[];
  /** From the scheduled start to the end of the body, ms (what a client of an open system sees). */
  latency: number[];
  /** From the actual send to the end of the body, ms (without the generator's own lag). */
  service: number[];
  /** Not an immediate shed: 1 when a 503 says the request waited in the queue until its timeout, 2 when a higher-priority request displaced it from the queue. */
  waited: number[];
  maxSendLagMs: number;
  firstError: string | undefined;
}
