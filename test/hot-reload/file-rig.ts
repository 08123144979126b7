// The standalone hot-reload rig, shared by test/hot-reload/standalone-file.test.ts and
// bench/hot-reload/run.ts: the mock upstream (`switchboard mock`) and one gateway reading a config
// file (`switchboard gateway --config FILE`) as real processes, open-loop load on the gateway, and
// edits of the file made the way editors and volume updates make them (write a temporary file,
// rename it over the config). Erasable TypeScript with `.ts` imports, so both jest and Node's type
// stripping load it; the config hash comes from @switchboard/crds once start() has built it.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeConfigInput } from '@switchboard/crds';
import { buildWorkspaces } from '../support/cli.ts';
import { modelVariant, percentile, waitServing } from './load.ts';
import { LoadedRig, type RigOptions } from './loaded-rig.ts';
import { startGatewayProcess, startMockProcess, type DataPlaneProcess } from './processes.ts';

const UPSTREAM_KEY = 'sk-upstream-standalone';
const MASTER_KEY = 'sk-master-standalone';
/** Traffic on each config before the next edit. */
const BETWEEN_EDITS_MS = 400;

export interface Edit {
  config: RuntimeConfigInput;
  hash: string;
  /** Deployments a `live` request may be served by: name -> upstream model. */
  allowed: Map<string, string>;
}

export class StandaloneFileRig extends LoadedRig {
  gateway!: DataPlaneProcess;
  private hashOf!: (config: RuntimeConfigInput) => string;
  private mockUrl = '';
  private configPath = '';

  private constructor(options: RigOptions) {
    super(options, MASTER_KEY);
  }

  /** Builds, writes edit 0, starts the mock and the gateway, waits until it serves edit 0, then starts the load. */
  static async start(options: RigOptions): Promise<StandaloneFileRig> {
    return LoadedRig.launch(new StandaloneFileRig(options), options.log);
  }

  protected async setUp(log: (message: string) => void): Promise<void> {
    const t0 = performance.now();
    await buildWorkspaces(); // the CLI runs from dist/
    const { configHash, RuntimeConfig } = await import('@switchboard/crds');
    this.hashOf = (config) => configHash(RuntimeConfig.parse(config));
    this.mockUrl = await startMockProcess(UPSTREAM_KEY, this.teardown);
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-hot-reload-'));
    this.teardown.add(() => rm(dir, { recursive: true, force: true }));
    this.configPath = join(dir, 'gateway.json');
    const first = this.edit(0);
    this.ledger.record(first.hash, first.allowed);
    await this.write(first.config);
    const env = { UPSTREAM_API_KEY: UPSTREAM_KEY, SWITCHBOARD_MASTER_KEY: MASTER_KEY };
    this.gateway = await startGatewayProcess('standalone', ['--config', this.configPath], env, this.teardown);
    await waitServing(this.ledger, [this.gateway], first.hash, 5_000);
    this.load.setTargets([this.gateway]);
    this.load.start();
    log(`setup (build, mock, gateway --config FILE): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** Edit `i`: deployment names, upstream models, weights, strategy and models all vary. */
  edit(i: number, credentialEnv = 'UPSTREAM_API_KEY'): Edit {
    const d = (suffix: string, weight: number): RuntimeConfigInput['models'][number]['deployments'][number] => ({
      name: `e${i}-${suffix}`,
      provider: 'openai',
      model: `e${i}-${suffix}-upstream`,
      baseUrl: `${this.mockUrl}/v1`,
      credentials: { env: credentialEnv },
      weight,
    });
    const variant = i % 4;
    const models = modelVariant(variant, d);
    const config: RuntimeConfigInput = {
      models,
      routing: { strategy: (['weighted', 'least-inflight', 'lowest-latency', 'weighted'] as const)[variant] },
      retries: { maxAttempts: 2, backoff: '10ms', maxRetryAfter: '1s' },
      auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' } },
    };
    const live = models.filter((m) => m.name === 'live' || (variant === 3 && m.name === 'backup'));
    const allowed = new Map(live.flatMap((m) => m.deployments.map((x) => [x.name, x.model] as const)));
    return { config, hash: this.hashOf(config), allowed };
  }

  /** Replaces the config file atomically (write + rename), with a config or any text. */
  async write(config: RuntimeConfigInput | string): Promise<void> {
    const temporary = `${this.configPath}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, typeof config === 'string' ? config : `${JSON.stringify(config, null, 2)}\n`);
    await rename(temporary, this.configPath);
  }

  /** Records edit `i`, writes it and waits until the gateway serves it; resolves with the ms from
   *  the start of the write until then. */
  async applyEdit(i: number, timeoutMs: number): Promise<number> {
    const { config, hash, allowed } = this.edit(i);
    this.ledger.record(hash, allowed);
    const started = performance.now();
    await this.write(config);
    return (await waitServing(this.ledger, [this.gateway], hash, timeoutMs)) - started;
  }

  /** Edits `first` .. `first + count - 1`, one at a time with traffic on each before the next. */
  async applyEdits(first: number, count: number, timeoutMs: number): Promise<number[]> {
    const toServing: number[] = [];
    for (let i = first; i < first + count; i++) {
      toServing.push(await this.applyEdit(i, timeoutMs));
      await new Promise((r) => setTimeout(r, BETWEEN_EDITS_MS));
    }
    return toServing;
  }
}

/** Edit -> serving percentiles, in one line. */
export function describeEdits(toServing: readonly number[]): string {
  const ms = (p: number): string => `${percentile(toServing, p).toFixed(0)} ms`;
  return `file rename -> serving, ${toServing.length} edits: p50 ${ms(50)}, p99 ${ms(99)}, max ${ms(100)}`;
}
