// The load generator: a child process of bench/run.ts (its own event loop, so its work never
// delays the servers under test), driven over IPC one job at a time. undici Pools, keep-alive.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import type {
  ClosedJob,
  Job,
  JobResult,
  OpenJob,
  SequentialJob,
  SequentialResult,
  StreamRecord,
  StreamsJob,
  StreamsResult,
  Target,
  ThroughputResult,
} from './lib/jobs.ts';

function poolFor(target: Target, connections: number): Pool {
  return new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
}

/** Sends one request and reads the whole body; resolves to an error text or undefined. */
async function once(pool: Pool, target: Target): Promise<string | undefined> {
  try {
    const res = await pool.request({ path: target.path, method: 'POST', headers: target.headers, body: target.body });
    await res.body.arrayBuffer();
    return res.statusCode === 200 ? undefined : `HTTP ${res.statusCode}`;
  } catch (error) {
    return describe(error);
  }
}

async function sequential(job: SequentialJob): Promise<SequentialResult> {
  const pool = poolFor(job.target, 1);
  const latencies: number[] = [];
  let errors = 0;
  for (let i = 0; i < job.count; i++) {
    const started = performance.now();
    const error = await once(pool, job.target);
    latencies.push(performance.now() - started);
    if (error) errors++;
  }
  await pool.close();
  return { kind: 'sequential', latencies, errors };
}

async function closed(job: ClosedJob): Promise<ThroughputResult> {
  const pool = poolFor(job.target, job.concurrency);
  const begin = performance.now();
  const measureFrom = begin + job.warmupMs;
  const measureTo = measureFrom + job.durationMs;
  const latencies: number[] = [];
  let offered = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    for (let started = performance.now(); started < measureTo; started = performance.now()) {
      const counted = started >= measureFrom;
      if (counted) offered++;
      const error = await once(pool, job.target);
      const ended = performance.now();
      // Only requests that both start and end inside the window count toward throughput.
      if (!counted || ended > measureTo) continue;
      if (error) {
        errors++;
        firstError ??= error;
      } else {
        completed++;
        latencies.push(ended - started);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  await pool.close();
  return { kind: 'closed', offered, completed, errors, firstError, elapsedMs: job.durationMs, rps: (completed * 1000) / job.durationMs, latencies, maxSendLagMs: 0 };
}

function open(job: OpenJob): Promise<ThroughputResult> {
  const pool = poolFor(job.target, job.connections);
  const interval = 1000 / job.rate;
  const warm = Math.round((job.rate * (job.warmupMs ?? 0)) / 1000);
  const total = Math.round((job.rate * job.durationMs) / 1000);
  const start = performance.now() + 5;
  // By schedule order, so the caller can see a queue building up over the run; NaN = error.
  const bySchedule = new Float64Array(total).fill(Number.NaN);
  let sent = 0;
  let settled = 0;
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let maxSendLagMs = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      const elapsedMs = performance.now() - (start + warm * interval);
      const latencies = Array.from(bySchedule);
      void pool.close().then(() =>
        resolve({ kind: 'open', offered: total, completed, errors, firstError, elapsedMs, rps: (completed * 1000) / elapsedMs, latencies, maxSendLagMs }),
      );
    };
    // Schedule slots 0 .. warm-1 warm up; slot warm + i is measured request i.
    const slots = warm + total;
    const fire = (slot: number, scheduled: number): void => {
      void once(pool, job.target).then((error) => {
        const index = slot - warm;
        if (index >= 0) {
          if (error) {
            errors++;
            firstError ??= error;
          } else {
            completed++;
            // Latency counts from the scheduled time, so a stalled server cannot hide its queue.
            bySchedule[index] = performance.now() - scheduled;
          }
        }
        if (++settled === slots) finish();
      });
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < slots && start + sent * interval <= now) {
        const scheduled = start + sent * interval;
        if (sent >= warm) maxSendLagMs = Math.max(maxSendLagMs, now - scheduled);
        fire(sent++, scheduled);
      }
      if (sent < slots) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    if (slots === 0) finish();
    else setTimeout(tick, 5);
  });
}

/** The stamp comment a mock started with --stamp-events begins each write with (mock/pacing.ts). */
const STAMP = /: stream-start=(\d+) sent=(\d+)\n/;

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/** One SSE stream: body read times, read count and "\n\n"-terminated event count. */
function stream(pool: Pool, target: Target): Promise<StreamRecord> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const startedNs = process.hrtime.bigint();
    pool.request({ path: target.path, method: 'POST', headers: target.headers, body: target.body }).then((res) => {
      if (res.statusCode !== 200) {
        res.body.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const record: StreamRecord = { ttftMs: Number.NaN, gaps: [], pathTtftMs: Number.NaN, stretches: [], reads: 0, events: 0, complete: false };
      let last = 0;
      let tail = '';
      // The previous stamped read: when it arrived and when the mock wrote it (ns).
      let stampedAt: bigint | undefined;
      let stampedSent = 0n;
      res.body.on('data', (chunk: Buffer) => {
        const nowNs = process.hrtime.bigint();
        const now = performance.now();
        if (record.reads === 0) record.ttftMs = now - started;
        else record.gaps.push(now - last);
        last = now;
        const text = tail + chunk.toString('latin1');
        const stamp = STAMP.exec(text);
        if (stamp !== null) {
          const sent = BigInt(stamp[2]!);
          if (record.reads === 0) record.pathTtftMs = nsToMs(nowNs - startedNs - (sent - BigInt(stamp[1]!)));
          else if (stampedAt !== undefined) record.stretches.push(nsToMs(nowNs - stampedAt - (sent - stampedSent)));
          stampedAt = nowNs;
          stampedSent = sent;
        }
        record.reads++;
        for (let at = text.indexOf('\n\n'); at >= 0; at = text.indexOf('\n\n', at + 2)) record.events++;
        tail = text.endsWith('\n') ? '\n' : '';
        if (text.includes('data: [DONE]')) record.complete = true;
      });
      res.body.on('end', () => resolve(record));
      res.body.on('error', reject);
    }, reject);
  });
}

async function streams(job: StreamsJob): Promise<StreamsResult> {
  const begin = performance.now();
  const byTarget: StreamsResult['byTarget'] = {};
  const pools = job.targets.map((t) => poolFor(t, job.concurrency));
  const workers: Promise<void>[] = [];
  // Workers of every target run side by side, so each sees the same machine at the same time.
  // With a ramp, every (worker, target) pair starts at its own offset within it.
  const slots = job.concurrency * job.targets.length;
  for (let w = 0; w < job.concurrency; w++) {
    job.targets.forEach((target, i) => {
      const entry = (byTarget[target.name] ??= { streams: [], errors: 0, firstError: undefined });
      const share = Math.floor(job.perTarget / job.concurrency) + (w < job.perTarget % job.concurrency ? 1 : 0);
      workers.push(
        (async () => {
          if (job.rampMs) await delay(((w * job.targets.length + i) * job.rampMs) / slots);
          for (let n = 0; n < share; n++) {
            try {
              entry.streams.push(await stream(pools[i]!, target));
            } catch (error) {
              entry.errors++;
              entry.firstError ??= describe(error);
            }
          }
        })(),
      );
    });
  }
  await Promise.all(workers);
  await Promise.all(pools.map((p) => p.close()));
  return { kind: 'streams', byTarget, elapsedMs: performance.now() - begin };
}

function run(job: Job): Promise<JobResult> {
  switch (job.kind) {
    case 'sequential':
      return sequential(job);
    case 'closed':
      return closed(job);
    case 'open':
      return open(job);
    case 'streams':
      return streams(job);
  }
}

process.on('message', (message: { id: number; job: Job }) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String((error as Error).stack ?? error) }),
  );
});
process.send!({ ready: true });
