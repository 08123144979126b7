// What the hot-reload rigs (rig.ts, file-rig.ts) have in common: a ledger of the configs applied,
// open-loop load on the alias `live` (a quarter streamed), and a teardown that stops the load and
// then every process the rig started. Erasable TypeScript with `.ts` imports (see rig.ts).
import { ConfigLedger, OpenLoopLoad } from './load.ts';
import { Teardown } from './processes.ts';

export interface RigOptions {
  /** Open-loop requests per second across the rig's data planes. */
  rps: number;
  /** The load stops by itself after this long. */
  maxLoadMs: number;
  log?: (message: string) => void;
}

export abstract class LoadedRig {
  readonly ledger = new ConfigLedger();
  readonly load: OpenLoopLoad;
  protected readonly teardown = new Teardown();

  protected constructor(options: RigOptions, masterKey: string) {
    this.load = new OpenLoopLoad({ rps: options.rps, streamShare: 0.25, maxDurationMs: options.maxLoadMs, apiKey: masterKey, model: 'live' });
  }

  /** Starts everything, the load last. */
  protected abstract setUp(log: (message: string) => void): Promise<void>;

  /** Sets `rig` up; if that fails, stops what it had started and throws. */
  protected static async launch<R extends LoadedRig>(rig: R, log: (message: string) => void = () => {}): Promise<R> {
    try {
      await rig.setUp(log);
      return rig;
    } catch (error) {
      await rig.stop().catch(() => {});
      throw error;
    }
  }

  /** Stops the load, then every process the rig started; throws the first error after trying all. */
  async stop(): Promise<void> {
    this.teardown.add(() => this.load.stop()); // runs first
    await this.teardown.run();
  }
}
