// What tests can ask the mock about the traffic it saw: counts and the last N requests, with
// credentials reduced to a fingerprint so a rotated key is visible but never stored.
import { createHash } from 'node:crypto';

export interface MockRequestRecord {
  /** Epoch milliseconds at arrival. */
  at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  model: string | null;
  stream: boolean;
  /** First 8 hex characters of sha256(key presented), or null without a key. */
  credential: string | null;
  /** Trace context (traceparent, tracestate, baggage) and x-request-id as received, when present. */
  headers: { traceparent?: string; tracestate?: string; baggage?: string; 'x-request-id'?: string };
  /** The fault applied (x-mock-fault syntax), or null. */
  fault: string | null;
  /** Status sent; null while pending, or when the request hung or was reset before headers. */
  status: number | null;
}

export interface MockStats {
  requests: number;
  byModel: Record<string, number>;
  byPath: Record<string, number>;
  /** Oldest first. */
  recent: MockRequestRecord[];
  /** API requests being served, the most at once since start (or reset), and those refused by --max-concurrency. */
  concurrency: { active: number; peak: number; refused: number };
}

const fingerprints = new Map<string, string>();

/** First 8 hex chars of the key's sha256 (memoised: keys are few, requests many). */
export function fingerprint(key: string): string {
  let value = fingerprints.get(key);
  if (value === undefined) {
    value = createHash('sha256').update(key).digest('hex').slice(0, 8);
    if (fingerprints.size > 1024) fingerprints.clear();
    fingerprints.set(key, value);
  }
  return value;
}

export class TrafficLog {
  private requests = 0;
  private byModel = new Map<string, number>();
  private byPath = new Map<string, number>();
  private ring: MockRequestRecord[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  record(entry: MockRequestRecord): void {
    this.requests++;
    if (entry.model !== null) this.byModel.set(entry.model, (this.byModel.get(entry.model) ?? 0) + 1);
    this.byPath.set(entry.path, (this.byPath.get(entry.path) ?? 0) + 1);
    if (this.capacity === 0) return;
    if (this.ring.length < this.capacity) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  snapshot(): Omit<MockStats, 'concurrency'> {
    const ordered = this.ring.length < this.capacity ? this.ring : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return {
      requests: this.requests,
      byModel: Object.fromEntries(this.byModel),
      byPath: Object.fromEntries(this.byPath),
      recent: ordered.map((r) => ({ ...r, headers: { ...r.headers } })),
    };
  }

  reset(): void {
    this.requests = 0;
    this.byModel.clear();
    this.byPath.clear();
    this.ring = [];
    this.next = 0;
  }
}
