// Standalone config source: reads the config file, watches it, and swaps the RuntimeState
// atomically on a valid edit. An invalid edit is rejected and the last good state keeps serving.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadConfigFile } from './load.js';
import { uriArtifacts } from './router-artifact.js';
import { ArtifactDownloads } from '../routing/rollout/downloads.js';
import { compileRuntimeState, type CompileContext, type RuntimeState } from './runtime-state.js';

export type ReloadResult = 'applied' | 'rejected' | 'unchanged';

export interface ConfigStatus {
  /** Hash of the state serving requests. */
  hash: string;
  /** Why the most recent update was rejected, until a later one applies. */
  lastError: string | undefined;
}

export interface ConfigSource {
  current(): RuntimeState;
  status(): ConfigStatus;
  close(): void;
}

export interface FileSourceHooks {
  onReload?(result: ReloadResult, state: RuntimeState, error?: string): void;
}

/** Loads and compiles once; returns an error message instead of throwing. */
export async function loadState(path: string, ctx: CompileContext): Promise<{ ok: true; state: RuntimeState; text: string } | { ok: false; message: string }> {
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) return loaded;
  try {
    await ctx.downloads?.fetchAll(uriArtifacts(loaded.config, ctx));
    return { ok: true, state: compileRuntimeState(loaded.config, ctx), text: loaded.text };
  } catch (error) {
    return { ok: false, message: `${path}: ${(error as Error).message}` };
  }
}

export class FileConfigSource implements ConfigSource {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private lastError: string | undefined;

  private constructor(
    private readonly path: string,
    private readonly ctx: CompileContext,
    private state: RuntimeState,
    private text: string,
    private readonly hooks: FileSourceHooks,
  ) {}

  /** Throws with the validation message when the initial file is invalid. */
  static async start(path: string, ctx: CompileContext, hooks: FileSourceHooks = {}): Promise<FileConfigSource> {
    const absolute = resolve(path);
    const context: CompileContext = { downloads: new ArtifactDownloads({ env: ctx.env }), ...ctx };
    const first = await loadState(absolute, context);
    if (!first.ok) throw new Error(first.message);
    const source = new FileConfigSource(absolute, context, first.state, first.text, hooks);
    source.watch();
    return source;
  }

  current(): RuntimeState {
    return this.state;
  }

  status(): ConfigStatus {
    return { hash: this.state.hash, lastError: this.lastError };
  }

  /** Re-reads the file now; resolves when the result is applied or rejected. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadOnce());
    return this.reloading;
  }

  close(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  // Watch directories, not files: editors and Kubernetes volume updates replace a file by
  // rename, which ends a watch on the file itself. Credential files are watched too.
  private watch(): void {
    this.close();
    const byDir = new Map<string, Set<string>>();
    for (const file of [this.path, ...this.state.credentialFiles, ...this.state.artifactFiles].map((f) => resolve(f))) {
      const names = byDir.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      byDir.set(dirname(file), names);
    }
    for (const [dir, names] of byDir) {
      try {
        this.watchers.push(
          watch(dir, (_event, changed) => {
            if (changed !== null && !names.has(changed) && !changed.startsWith('..')) return;
            clearTimeout(this.timer);
            // Coalesce the burst of events one save produces.
            this.timer = setTimeout(() => void this.reload(), 25);
          }),
        );
      } catch {
        // A directory that does not exist yet cannot be watched; the next config change retries.
      }
    }
  }

  private async reloadOnce(): Promise<void> {
    const next = await loadState(this.path, this.ctx);
    if (!next.ok) {
      this.lastError = next.message;
      this.hooks.onReload?.('rejected', this.state, next.message);
      return;
    }
    this.lastError = undefined;
    if (next.text === this.text && next.state.credentialsDigest === this.state.credentialsDigest && next.state.hash === this.state.hash) {
      this.hooks.onReload?.('unchanged', this.state);
      return;
    }
    const filesOf = (s: RuntimeState): string => [...s.credentialFiles, ...s.artifactFiles].join('\n');
    const filesChanged = filesOf(next.state) !== filesOf(this.state);
    this.text = next.text;
    this.state = next.state;
    if (filesChanged) this.watch();
    this.hooks.onReload?.('applied', next.state);
  }
}
