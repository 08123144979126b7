// The processes the hot-reload rigs (rig.ts, file-rig.ts) start: the mock upstream and data planes
// as real `switchboard` processes, and the teardown that stops them. Erasable TypeScript with
// `.ts` imports, so both jest and Node's type stripping (bench/hot-reload) load it.
import { startCli, type RunningCli } from '../support/cli.ts';
import type { Target } from './load.ts';

export interface DataPlaneProcess extends Target {
  adminUrl: string;
  cli: RunningCli;
  /** The config hash the process printed when it started listening. */
  startedOn: string;
}

/** Steps that undo what was started, run last-in first-out, every one even if another fails. */
export class Teardown {
  private readonly steps: Array<() => unknown> = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length) await Promise.resolve().then(this.steps.pop()!).catch((e: unknown) => errors.push(e));
    if (errors.length) throw errors[0];
  }
}

/** SIGCONT (it may be paused), SIGTERM, then SIGKILL if the process has not exited after `ms`. */
async function stopWithin(cli: RunningCli, ms: number): Promise<void> {
  cli.child.kill('SIGCONT');
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), ms);
  try {
    await cli.stop();
  } finally {
    clearTimeout(timer);
  }
}

/** `switchboard mock` answering only `apiKey` (5 ms to the first token, 1,000 tokens/s); resolves with its URL. */
export async function startMockProcess(apiKey: string, teardown: Teardown): Promise<string> {
  const mock = startCli(['mock', '--port', '0', '--api-key', apiKey, '--ttft-ms', '5', '--tokens-per-second', '1000']);
  teardown.add(() => stopWithin(mock, 10_000));
  return (await mock.waitForOutput(/mock listening on (\S+)/, 30_000))[1]!;
}

/** `switchboard gateway` with `source` (its config source flags) on free ports; resolves once it listens. */
export async function startGatewayProcess(name: string, source: string[], env: NodeJS.ProcessEnv, teardown: Teardown): Promise<DataPlaneProcess> {
  const cli = startCli(['gateway', ...source, '--port', '0', '--admin-port', '0'], env);
  teardown.add(() => stopWithin(cli, 10_000));
  const m = await cli.waitForOutput(/"port":(\d+),"adminPort":(\d+),"configHash":"([0-9a-f]{16})"/, 30_000);
  return { name, url: `http://127.0.0.1:${m[1]}`, adminUrl: `http://127.0.0.1:${m[2]}`, cli, startedOn: m[3]! };
}
