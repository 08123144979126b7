// The overload benchmark's load generator: a child process (its own event loop) that starts
// requests on an open-loop schedule and records each one's class, status and latency.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { OverloadJob, OverloadResult } from './jobs.ts';

/** Class of the i-th request: a low-discrepancy sequence, so every class is spread evenly. */
function classOf(i: number, cumulative: number[]): number {
  const u = (i * 0.6180339887498949) % 1;
  const at = cumulative.findIndex((c) => u < c);
  return at < 0 ? cumulative.length - 1 : at;
}

function run(job: OverloadJob): Promise<OverloadResult> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 });
  const cumulative = job.classes.map((_, i) => job.classes.slice(0, i + 1).reduce((sum, c) => sum + c.share, 0));
  const headers = job.classes.map((c) => ({ 'content-type': 'application/json', authorization: `Bearer ${c.key}` }));
  // Schedule: every request's start time, phase after phase.
  const at: number[] = [];
  let phaseStart = 0;
  for (const phase of job.phases) {
    const count = Math.round((phase.rate * phase.durationMs) / 1000);
    for (let n = 0; n < count; n++) at.push(phaseStart + (n * 1000) / phase.rate);
    phaseStart += phase.durationMs;
  }
  const total = at.length;
  const cls = at.map((_, i) => classOf(i, cumulative));
  const status = new Array<number>(total).fill(0);
  const latency = new Array<number>(total).fill(Number.NaN);
  const service = new Array<number>(total).fill(Number.NaN);
  const waited = new Array<number>(total).fill(0);
  let firstError: string | undefined;
  let maxSendLagMs = 0;
  let sent = 0;
  let settled = 0;
  const start = performance.now() + 10;
  return new Promise((resolve) => {
    const fire = (i: number): void => {
      const scheduled = start + at[i]!;
      const sent = performance.now();
      pool.request({ path: '/v1/chat/completions', method: 'POST', headers: headers[cls[i]!], body: job.body }).then(
        async (res) => {
          if (res.statusCode === 200) await res.body.arrayBuffer();
          else {
            const text = await res.body.text();
            waited[i] = text.includes('(queue timeout)') ? 1 : text.includes('took the place') ? 2 : 0;
          }
          status[i] = res.statusCode;
          const now = performance.now();
          latency[i] = now - scheduled;
          service[i] = now - sent;
        },
        (error: unknown) => {
          firstError ??= (error as NodeJS.ErrnoException).code ?? String(error);
        },
      ).finally(() => {
        if (++settled === total) void pool.close().then(() => resolve({ kind: 'overload', at, cls, status, latency, service, waited, maxSendLagMs, firstError }));
      });
    };
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + at[sent]! <= now) {
        maxSendLagMs = Math.max(maxSendLagMs, now - start - at[sent]!);
        fire(sent++);
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + at[sent]! - performance.now()));
    };
    setTimeout(tick, 10);
  });
}

process.on('message', (message: { id: number; job: OverloadJob }) => {
  run(message.job).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String((error as Error).stack ?? error) }),
  );
});
process.send!({ ready: true });
