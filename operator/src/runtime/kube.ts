// A small, typed door to the Kubernetes API: raw JSON requests and watches over the connection,
// TLS and credentials that @kubernetes/client-node derives from a kubeconfig (or the in-cluster
// service account). Objects stay plain JSON, exactly as the apiserver sends them, so lists and
// watch events have the same shape.
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch, type Dispatcher } from 'undici';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** The body of an error response (and of a watch ERROR event). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }

  static fromStatus(httpStatus: number, body: unknown, context: string): KubeApiError {
    const s = (typeof body === 'object' && body !== null ? body : {}) as KubeStatus;
    const code = typeof s.code === 'number' && s.code > 0 ? s.code : httpStatus;
    return new KubeApiError(code, s.reason, `${context}: ${code}${s.reason ? ` ${s.reason}` : ''}${s.message ? `: ${s.message}` : ''}`, body);
  }
}

const hasStatus = (err: unknown, status: number): boolean => err instanceof KubeApiError && err.status === status;
/** 410: the resource version asked for is older than the apiserver keeps; list again. */
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
export const isConflict = (err: unknown): boolean => hasStatus(err, 409);
export const isNotFound = (err: unknown): boolean => hasStatus(err, 404);

/** A kind of object, addressed the way the REST API addresses it. */
export interface ResourceRef {
  /** `v1` for the core group, otherwise `group/version`. */
  apiVersion: string;
  /** Lower-case plural resource name, e.g. `configmaps`. */
  plural: string;
  /** Restrict to one namespace; omit for all namespaces (or a cluster-scoped resource). */
  namespace?: string;
}

export function collectionPath(ref: ResourceRef): string {
  const root = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  return ref.namespace ? `${root}/namespaces/${encodeURIComponent(ref.namespace)}/${ref.plural}` : `${root}/${ref.plural}`;
}

export function objectPath(ref: ResourceRef, name: string): string {
  return `${collectionPath(ref)}/${encodeURIComponent(name)}`;
}

/** `namespace/name`, or `name` for a cluster-scoped object (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface RawWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KubeObject;
}

export interface WatchHandlers {
  /** The apiserver accepted the watch (HTTP 200). */
  onOpen?: () => void;
  onEvent: (event: RawWatchEvent) => void;
}

/** The watch saw no bytes (not even a bookmark) for longer than its inactivity timeout. */
export class WatchInactiveError extends Error {
  constructor(ms: number) {
    super(`watch received nothing for ${ms} ms`);
    this.name = 'WatchInactiveError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default application/json; e.g. application/apply-patch+yaml for server-side apply. */
  contentType?: string;
  signal?: AbortSignal;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /** Give up (WatchInactiveError) after this long without a byte. Default 90 s: the apiserver
   *  sends a bookmark about once a minute to watches that allow them. */
  inactivityTimeoutMs?: number;
}

/** How long a dispatcher (connection pool with the kubeconfig's TLS settings) is reused. */
const DISPATCHER_TTL_MS = 10 * 60_000;

export class KubeClient {
  private dispatcher: { value: Dispatcher | undefined; at: number } | undefined;

  constructor(readonly config: KubeConfig) {}

  static fromFile(kubeconfigPath: string): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    return new KubeClient(kc);
  }

  /** $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  static fromDefault(): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(kc);
  }

  get server(): string {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    return cluster.server;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const { headers, dispatcher } = await this.prepare(url, method);
    headers.Accept = 'application/json';
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const res = await fetch(url, { method, headers, body, dispatcher, signal: options.signal });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) throw KubeApiError.fromStatus(res.status, parsed, `${method} ${path}`);
    return parsed as T;
  }

  /** Streams a watch until the server ends it (resolves), `signal` aborts (resolves), or it fails
   *  (rejects: KubeApiError for an HTTP error or an in-stream ERROR event such as 410 Gone,
   *  WatchInactiveError, or a network error). */
  async watch(path: string, query: RequestOptions['query'], handlers: WatchHandlers, options: WatchOptions = {}): Promise<void> {
    const url = this.url(path, { ...query, watch: true });
    const { headers, dispatcher } = await this.prepare(url, 'GET');
    headers.Accept = 'application/json';
    const inactivityMs = options.inactivityTimeoutMs ?? 90_000;
    const ac = new AbortController();
    const outer = options.signal;
    const onOuterAbort = (): void => ac.abort(outer?.reason);
    if (outer?.aborted) return;
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    let inactive = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        inactive = true;
        ac.abort(new WatchInactiveError(inactivityMs));
      }, inactivityMs);
      timer.unref();
    };
    try {
      arm();
      const res = await fetch(url, { method: 'GET', headers, dispatcher, signal: ac.signal });
      if (res.status !== 200 || !res.body) {
        const text = await res.text().catch(() => '');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* keep text */
        }
        throw KubeApiError.fromStatus(res.status, parsed, `watch ${path}`);
      }
      handlers.onOpen?.();
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of res.body) {
        arm();
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: unknown };
          if (event.type === 'ERROR') throw KubeApiError.fromStatus(500, event.object, `watch ${path}`);
          handlers.onEvent(event as RawWatchEvent);
        }
      }
    } catch (err) {
      if (inactive) throw new WatchInactiveError(inactivityMs);
      if (outer?.aborted) return;
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
      ac.abort();
    }
  }

  private url(path: string, query: RequestOptions['query']): string {
    const u = new URL(this.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  private async prepare(url: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'): Promise<{ headers: Record<string, string>; dispatcher: Dispatcher | undefined }> {
    const ctx = new RequestContext(url, HttpMethod[method]);
    // Re-applied on every request: bearer tokens (service account, exec plugins) rotate.
    await this.config.applySecurityAuthentication(ctx);
    const now = Date.now();
    if (!this.dispatcher || now - this.dispatcher.at > DISPATCHER_TTL_MS) {
      this.dispatcher = { value: ctx.getDispatcher() as Dispatcher | undefined, at: now };
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.getHeaders())) headers[k] = String(v);
    return { headers, dispatcher: this.dispatcher.value };
  }
}
