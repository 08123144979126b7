// Trace and span ids from the operating system's CSPRNG, drawn from a pool filled 4 KB at a time:
// one crypto.randomFillSync per 256 span ids instead of a Math.random per four bytes (the SDK's
// RandomIdGenerator), so ids are cheaper per span and not predictable from one another.
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 4096;

export class PooledIdGenerator implements IdGenerator {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private at = POOL_BYTES;

  generateTraceId(): string {
    return this.take(16);
  }

  generateSpanId(): string {
    return this.take(8);
  }

  /** The next `bytes` random bytes as lowercase hex; never all zeros (an invalid W3C id). */
  private take(bytes: number): string {
    if (this.at + bytes > POOL_BYTES) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const start = this.at;
    this.at += bytes;
    let nonZero = false;
    for (let i = start; i < this.at && !nonZero; i++) nonZero = this.pool[i] !== 0;
    if (!nonZero) this.pool[this.at - 1] = 1;
    return this.pool.toString('hex', start, this.at);
  }
}
