// Kubernetes config source: watches the data plane's own ConfigMap through the API (a
// field-selected list+watch, not a mounted volume, which lags up to a minute) and the Secrets its
// config references, one watch per Secret name. Every change recompiles the RuntimeState from
// the cached objects (level-triggered) and swaps it atomically; an invalid update is rejected and
// the last good state keeps serving. The informers re-list with backoff on 410 and any failure,
// so an apiserver outage leaves the last config serving and the watch resumes when it returns.
import {
  errorMessage,
  Informer,
  KubeClient,
  resourceListWatcher,
  silentLogger,
  type BackoffOptions,
  type KubeObject,
  type Logger,
} from '@switchboard/operator/runtime';
import type { RuntimeConfig } from '@switchboard/crds/runtime';
import { AppliedHashReporter, type AppliedHashStatus, type PodRef } from './applied-hash.js';
import { CredentialError, type SecretLookup } from './credentials.js';
import type { ConfigSource, ConfigStatus, FileSourceHooks } from './file-source.js';
import { parseConfigText } from './load.js';
import { publicKeySecrets, RouterArtifactError, routerSpecsOf, s3KeySecrets, uriArtifacts, type ConfigMapLookup } from './router-artifact.js';
import { ArtifactDownloads } from '../routing/rollout/downloads.js';
import { compileRuntimeState, type CompileContext, type RuntimeState } from './runtime-state.js';

/** The ConfigMap key the operator writes the runtime config under. */
export const DEFAULT_CONFIG_KEY = 'config.json';

interface DataObject extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface KubeSourceOptions {
  /** The ConfigMap holding the runtime config. */
  name: string;
  namespace: string;
  /** Key inside the ConfigMap. Default `config.json`. */
  key?: string;
  /** Path to a kubeconfig; default $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfigPath?: string;
  /** This process's Pod: receives the applied-hash annotation. Omit to not report. */
  pod?: PodRef;
  /** For `env` credential references. Default process.env. */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** How long start() waits for the first list of the ConfigMap and its Secrets. Default 30 s. */
  startTimeoutMs?: number;
  /** How long an update waits for a newly referenced Secret's first list. Default 10 s. */
  secretSyncTimeoutMs?: number;
  /** Between failed lists/watches. Default 250 ms doubling to 5 s, +0..50 % jitter. */
  backoff?: BackoffOptions;
}

export interface KubeSourceStatus extends ConfigStatus {
  /** The watches and the pod annotation, for debugging and tests. */
  watch: { configMap: { watching: boolean; lastError: string | undefined }; secrets: string[] };
  appliedHash: AppliedHashStatus | undefined;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 5_000, factor: 2, jitter: 0.5 };

/** Names of the Secrets a config references (auth master key and deployment credentials). */
export function referencedSecrets(config: RuntimeConfig): string[] {
  const refs = [config.auth.masterKey, ...config.models.flatMap((m) => m.deployments.map((d) => d.credentials))];
  return [...new Set([...refs.flatMap((ref) => (ref && 'secretKeyRef' in ref ? [ref.secretKeyRef.name] : [])), ...publicKeySecrets(config), ...s3KeySecrets(config)])].sort();
}

/** Names of the ConfigMaps holding router artifacts a config references. */
export function referencedArtifactConfigMaps(config: RuntimeConfig): string[] {
  return [...new Set(routerSpecsOf(config).flatMap((r) => ('configMap' in r.artifact ? [r.artifact.configMap.name] : [])))].sort();
}

export class KubeConfigSource implements ConfigSource {
  private readonly client: KubeClient;
  private readonly key: string;
  private readonly log: Logger;
  private readonly backoff: BackoffOptions;
  private readonly configMaps: Informer<DataObject>;
  private readonly secrets = new Map<string, Informer<DataObject>>();
  /** Router artifact ConfigMaps, one watch per name. */
  private readonly artifacts = new Map<string, Informer<DataObject>>();
  private readonly reporter: AppliedHashReporter | undefined;
  private readonly downloads: ArtifactDownloads;
  private state: RuntimeState | undefined;
  private text: string | undefined;
  private lastError: string | undefined;
  private started = false;
  private closed = false;
  private dirty = false;
  private syncing: Promise<void> | undefined;

  private constructor(
    private readonly options: KubeSourceOptions,
    private readonly hooks: FileSourceHooks,
  ) {
    this.client = options.kubeconfigPath ? KubeClient.fromFile(options.kubeconfigPath) : KubeClient.fromDefault();
    this.key = options.key ?? DEFAULT_CONFIG_KEY;
    this.log = options.log ?? silentLogger;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.downloads = new ArtifactDownloads({ env: options.env ?? process.env });
    this.configMaps = this.informer('configmaps', options.name);
    this.reporter = options.pod && new AppliedHashReporter(this.client, options.pod, { log: this.log });
  }

  /** Lists the ConfigMap and its Secrets and compiles the first state. Throws a message naming
   *  the ConfigMap, field, Secret or key when it cannot (no apiserver, missing object, invalid config). */
  static async start(options: KubeSourceOptions, hooks: FileSourceHooks = {}): Promise<KubeConfigSource> {
    const source = new KubeConfigSource(options, hooks);
    try {
      await source.initialise();
    } catch (error) {
      await source.stop();
      throw error;
    }
    return source;
  }

  current(): RuntimeState {
    if (!this.state) throw new Error('KubeConfigSource: not started');
    return this.state;
  }

  status(): KubeSourceStatus {
    const cm = this.configMaps.health();
    return {
      hash: this.current().hash,
      lastError: this.lastError,
      watch: { configMap: { watching: cm.watching, lastError: cm.lastError }, secrets: [...this.secrets.keys()].sort() },
      appliedHash: this.reporter?.status(),
    };
  }

  /** Resolves once every change seen so far has been applied or rejected. */
  async settled(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  close(): void {
    void this.stop();
  }

  /** Stops every watch and the hash reporter; resolves when they have ended. */
  async stop(): Promise<void> {
    this.closed = true;
    await Promise.all([this.configMaps.stop(), ...[...this.secrets.values(), ...this.artifacts.values()].map((i) => i.stop()), this.reporter?.close()]);
  }

  private get source(): string {
    return `ConfigMap ${this.options.namespace}/${this.options.name} key ${this.key}`;
  }

  private informer(plural: 'configmaps' | 'secrets', name: string): Informer<DataObject> {
    const informer = new Informer<DataObject>(
      resourceListWatcher(this.client, { apiVersion: 'v1', plural, namespace: this.options.namespace }, { fieldSelector: `metadata.name=${name}` }),
      { name: `${plural}/${name}`, logger: this.log, backoff: this.backoff },
    );
    informer.addHandler({ onAdd: () => this.schedule(), onUpdate: () => this.schedule(), onDelete: () => this.schedule() });
    informer.start();
    return informer;
  }

  /**
   * Makes sure each named object has a synced watch in `watched`; returns "<ns>/<name>: <why>"
   * for the first one that cannot be listed by the deadline.
   */
  private async watchAll(
    watched: Map<string, Informer<DataObject>>,
    plural: 'configmaps' | 'secrets',
    names: Iterable<string>,
    deadline: number,
  ): Promise<string | undefined> {
    for (const name of names) if (!watched.has(name)) watched.set(name, this.informer(plural, name));
    for (const name of names) {
      const informer = watched.get(name)!;
      if (!(await waitForSync(informer, deadline))) return `${this.options.namespace}/${name}: ${informer.health().lastError ?? 'timed out'}`;
    }
    return undefined;
  }

  private async initialise(): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 30_000);
    if (!(await waitForSync(this.configMaps, deadline))) {
      throw new Error(`cannot list ConfigMap ${this.options.namespace}/${this.options.name}: ${this.configMaps.health().lastError ?? 'timed out'}`);
    }
    const candidate = await this.candidate(deadline);
    if (!candidate.ok) throw new Error(candidate.message);
    this.apply(candidate.state, candidate.text, false);
    this.pruneSecrets();
    this.started = true;
    this.log.info({ configMap: `${this.options.namespace}/${this.options.name}`, secrets: [...this.secrets.keys()], configHash: candidate.state.hash }, 'watching config');
    // Changes that arrived while starting are applied now.
    if (this.dirty) this.schedule();
  }

  private schedule(): void {
    this.dirty = true;
    if (!this.started || this.closed || this.syncing) return;
    this.syncing = this.drain().finally(() => (this.syncing = undefined));
  }

  // One sync at a time; changes during a sync trigger one more.
  private async drain(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        await this.sync();
      } catch (error) {
        this.reject(`${this.source}: ${errorMessage(error)}`);
      }
    }
  }

  private async sync(): Promise<void> {
    const candidate = await this.candidate(Date.now() + (this.options.secretSyncTimeoutMs ?? 10_000));
    if (this.closed) return;
    if (!candidate.ok) {
      this.reject(candidate.message);
      this.refreshCurrent();
    } else if (candidate.text === this.text && candidate.state.credentialsDigest === this.state?.credentialsDigest && candidate.state.hash === this.state?.hash) {
      this.lastError = undefined;
      this.hooks.onReload?.('unchanged', this.current());
    } else {
      this.apply(candidate.state, candidate.text, true);
    }
    this.pruneSecrets();
  }

  /** Parses the cached ConfigMap, makes sure its Secrets are watched, and compiles it. */
  private async candidate(deadline: number): Promise<{ ok: true; state: RuntimeState; text: string } | { ok: false; message: string }> {
    const cm = this.configMaps.get(`${this.options.namespace}/${this.options.name}`);
    if (!cm) return { ok: false, message: `ConfigMap ${this.options.namespace}/${this.options.name} not found` };
    const text = cm.data?.[this.key];
    if (text === undefined) return { ok: false, message: `${this.source}: key not found in the ConfigMap (keys: ${Object.keys(cm.data ?? {}).join(', ') || 'none'})` };
    const parsed = parseConfigText(text, this.source);
    if (!parsed.ok) return parsed;
    const names = referencedSecrets(parsed.config);
    const secretsError = await this.watchAll(this.secrets, 'secrets', names, deadline);
    if (secretsError) return { ok: false, message: `${this.source}: cannot list Secret ${secretsError}` };
    const artifactNames = referencedArtifactConfigMaps(parsed.config);
    const artifactsError = await this.watchAll(this.artifacts, 'configmaps', artifactNames, deadline);
    if (artifactsError) return { ok: false, message: `${this.source}: cannot list ConfigMap ${artifactsError}` };
    try {
      const ctx = this.compileContext();
      await this.downloads.fetchAll(uriArtifacts(parsed.config, ctx));
      return { ok: true, state: compileRuntimeState(parsed.config, ctx), text };
    } catch (error) {
      return { ok: false, message: `${this.source}: ${errorMessage(error)}` };
    }
  }

  private compileContext(): CompileContext {
    return { env: this.options.env ?? process.env, secrets: this.secretLookup, configMaps: this.configMapLookup, downloads: this.downloads };
  }

  // Router artifacts: binaryData (base64 in the API) or data (text).
  private readonly configMapLookup: ConfigMapLookup = (name, key) => {
    const cm = this.artifacts.get(name)?.get(`${this.options.namespace}/${name}`);
    if (!cm) throw new RouterArtifactError(`router artifact ConfigMap ${this.options.namespace}/${name} (key ${key}) does not exist`);
    const binary = cm.binaryData?.[key];
    if (binary !== undefined) return Buffer.from(binary, 'base64');
    const text = cm.data?.[key];
    if (text !== undefined) return Buffer.from(text, 'utf8');
    throw new RouterArtifactError(`router artifact ConfigMap ${this.options.namespace}/${name} has no key ${key}`);
  };

  // Secret values are base64 in the API; one trailing newline (kubectl --from-file) is dropped,
  // as for credential files.
  private readonly secretLookup: SecretLookup = (name, key) => {
    const secret = this.secrets.get(name)?.get(`${this.options.namespace}/${name}`);
    if (!secret) throw new CredentialError(`Secret ${this.options.namespace}/${name} (key ${key}) does not exist`);
    const encoded = secret.data?.[key];
    if (encoded === undefined) throw new CredentialError(`Secret ${this.options.namespace}/${name} has no key ${key}`);
    return Buffer.from(encoded, 'base64').toString('utf8').replace(/\r?\n$/, '');
  };

  private apply(state: RuntimeState, text: string, notify: boolean): void {
    this.state = state;
    this.text = text;
    this.lastError = undefined;
    if (notify) this.hooks.onReload?.('applied', state);
    this.reporter?.report(state.hash);
  }

  private reject(message: string): void {
    this.lastError = message;
    this.hooks.onReload?.('rejected', this.current(), message);
  }

  // The ConfigMap update was rejected, but a Secret the serving config uses may have rotated:
  // recompile the serving config with the current Secrets so the rotation still applies.
  private refreshCurrent(): void {
    const state = this.current();
    try {
      const next = compileRuntimeState(state.config, this.compileContext());
      if (next.credentialsDigest === state.credentialsDigest && next.hash === state.hash) return;
      this.state = next;
      this.hooks.onReload?.('applied', next);
    } catch {
      // The serving config's own Secrets are gone or incomplete: keep the keys it has.
    }
  }

  // Watch only the Secrets the serving config or the pending ConfigMap references.
  private pruneSecrets(): void {
    const keep = new Set(this.state ? referencedSecrets(this.state.config) : []);
    const text = this.configMaps.get(`${this.options.namespace}/${this.options.name}`)?.data?.[this.key];
    const pending = text === undefined ? undefined : parseConfigText(text, this.source);
    if (pending?.ok) for (const name of referencedSecrets(pending.config)) keep.add(name);
    for (const [name, informer] of this.secrets) {
      if (keep.has(name)) continue;
      this.secrets.delete(name);
      void informer.stop();
    }
    const keepArtifacts = new Set(this.state ? referencedArtifactConfigMaps(this.state.config) : []);
    if (pending?.ok) for (const name of referencedArtifactConfigMaps(pending.config)) keepArtifacts.add(name);
    for (const [name, informer] of this.artifacts) {
      if (keepArtifacts.has(name)) continue;
      this.artifacts.delete(name);
      void informer.stop();
    }
  }
}

async function waitForSync(informer: Informer<DataObject>, deadline: number): Promise<boolean> {
  if (informer.hasSynced()) return true;
  const timeout = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
  return informer.waitForSync(timeout);
}
