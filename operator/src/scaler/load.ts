// Load of a gateway's data plane, from its pods' own Prometheus endpoints (admin port /metrics):
// output tokens per second (rate of switchboard_tokens_total{direction="output"} between two
// scrapes of the same pod) and requests in flight (switchboard_in_flight_requests), summed over
// the pods. Pure parsing and rate arithmetic; the HTTP fetch, the pod list and the clock are passed in.
import type { Clock } from '../runtime/index.js';

export interface PodSample {
  /** Counter: output tokens since the pod started. */
  outputTokens: number;
  /** Gauge: requests being processed now. */
  inflight: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/;

/** Sums the two series the scaler needs out of a Prometheus text exposition. */
export function parseMetrics(text: string): PodSample {
  let outputTokens = 0;
  let inflight = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    if (m[1] === 'switchboard_tokens_total' && /(?:^|[{,])\s*direction="output"/.test(m[2] ?? '')) outputTokens += value;
    else if (m[1] === 'switchboard_in_flight_requests') inflight += value;
  }
  return { outputTokens, inflight };
}

export interface ScrapeTarget {
  /** Pod name: the key a counter's previous sample is kept under. */
  pod: string;
  /** e.g. http://10.1.2.3:9090/metrics */
  url: string;
}

/** Ready data-plane pods of a gateway. */
export type TargetLister = (namespace: string, gateway: string, signal?: AbortSignal) => Promise<ScrapeTarget[]>;
export type MetricsFetcher = (url: string, signal?: AbortSignal) => Promise<string>;

export interface GatewayLoad {
  /** Output tokens per second over all pods (0 for a pod seen only once so far). */
  tokensPerSecond: number;
  /** Requests in flight over all pods. */
  inflight: number;
  /** Pods scraped successfully. */
  pods: number;
  /** Pods whose scrape failed (left out of the sums). */
  failed: number;
}

export const defaultFetcher: MetricsFetcher = async (url, signal) => {
  const res = await fetch(url, { signal: signal ?? AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.text();
};

interface Previous {
  atMs: number;
  outputTokens: number;
  /** Last computed rate, reused when scraped again sooner than minRateWindowMs. */
  rate: number;
}

export interface LoadTrackerOptions {
  targets: TargetLister;
  fetch?: MetricsFetcher;
  clock: Clock;
  /** Scrapes closer together than this reuse the previous rate. Default 1 s. */
  minRateWindowMs?: number;
  /** Forget a pod not scraped for this long. Default 10 min. */
  forgetAfterMs?: number;
}

/** Keeps the previous sample of each pod, so each scrape yields a rate. */
export class LoadTracker {
  private readonly previous = new Map<string, Previous>();
  private readonly fetch: MetricsFetcher;

  constructor(private readonly options: LoadTrackerOptions) {
    this.fetch = options.fetch ?? defaultFetcher;
  }

  async load(namespace: string, gateway: string, signal?: AbortSignal): Promise<GatewayLoad> {
    const targets = await this.options.targets(namespace, gateway, signal);
    const results = await Promise.allSettled(targets.map(async (t) => ({ t, sample: parseMetrics(await this.fetch(t.url, signal)) })));
    const now = this.options.clock.now();
    const minWindow = this.options.minRateWindowMs ?? 1_000;
    const load: GatewayLoad = { tokensPerSecond: 0, inflight: 0, pods: 0, failed: 0 };
    for (const r of results) {
      if (r.status === 'rejected') {
        load.failed++;
        continue;
      }
      const { t, sample } = r.value;
      const key = `${namespace}/${t.pod}`;
      const prev = this.previous.get(key);
      let rate = 0;
      if (prev && now - prev.atMs < minWindow) rate = prev.rate;
      else {
        if (prev) {
          // A counter that went down restarted from zero.
          const delta = sample.outputTokens >= prev.outputTokens ? sample.outputTokens - prev.outputTokens : sample.outputTokens;
          rate = delta / ((now - prev.atMs) / 1000);
        }
        this.previous.set(key, { atMs: now, outputTokens: sample.outputTokens, rate });
      }
      load.tokensPerSecond += rate;
      load.inflight += sample.inflight;
      load.pods++;
    }
    const forget = this.options.forgetAfterMs ?? 600_000;
    for (const [key, prev] of this.previous) if (now - prev.atMs > forget) this.previous.delete(key);
    return load;
  }
}
