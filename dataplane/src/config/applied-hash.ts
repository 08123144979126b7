// Reports the config hash a data-plane pod applied as an annotation on its own Pod, which the
// operator reads to tell which replicas lag. Fire and forget: failures retry with backoff in the
// background and never block serving; a newer hash supersedes one still being retried.
import { backoffDelay, errorMessage, realClock, sleep, type BackoffOptions, type KubeClient, type Logger } from '@switchboard/operator/runtime';

export const APPLIED_HASH_ANNOTATION = 'switchboard.dev/applied-config-hash';

export interface PodRef {
  namespace: string;
  name: string;
}

export interface AppliedHashStatus {
  /** The hash the Pod annotation holds (as far as this process knows). */
  reported: string | undefined;
  /** A hash still waiting to be written. */
  pending: string | undefined;
  lastError: string | undefined;
}

export interface AppliedHashReporterOptions {
  log: Logger;
  backoff?: BackoffOptions;
  /** One PATCH may take this long before it counts as failed. Default 10 s. */
  requestTimeoutMs?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 10_000, factor: 2, jitter: 0.3 };

export class AppliedHashReporter {
  private wanted: string | undefined;
  private reported: string | undefined;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: KubeClient,
    private readonly pod: PodRef,
    private readonly options: AppliedHashReporterOptions,
  ) {}

  /** Records `hash` as applied; the annotation is written in the background. */
  report(hash: string): void {
    this.wanted = hash;
    if (!this.loop && !this.abort.signal.aborted) this.loop = this.run().finally(() => (this.loop = undefined));
  }

  status(): AppliedHashStatus {
    return { reported: this.reported, pending: this.wanted === this.reported ? undefined : this.wanted, lastError: this.lastError };
  }

  /** Stops retrying; resolves once the background loop has ended. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    const path = `/api/v1/namespaces/${encodeURIComponent(this.pod.namespace)}/pods/${encodeURIComponent(this.pod.name)}`;
    while (this.wanted !== undefined && this.wanted !== this.reported && !this.abort.signal.aborted) {
      const hash = this.wanted;
      try {
        await this.client.request('PATCH', path, {
          body: { metadata: { annotations: { [APPLIED_HASH_ANNOTATION]: hash } } },
          contentType: 'application/merge-patch+json',
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000)]),
        });
        this.reported = hash;
        this.lastError = undefined;
        failures = 0;
        this.options.log.info({ pod: `${this.pod.namespace}/${this.pod.name}`, configHash: hash }, 'applied config hash reported');
      } catch (err) {
        if (this.abort.signal.aborted) return;
        failures++;
        this.lastError = errorMessage(err);
        const delay = backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, failures);
        this.options.log.warn(
          { pod: `${this.pod.namespace}/${this.pod.name}`, configHash: hash, err: this.lastError, retryInMs: Math.round(delay), failures },
          'cannot report the applied config hash; retrying',
        );
        await sleep(realClock, delay, this.abort.signal);
      }
    }
  }
}
