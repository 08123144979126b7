// What the harnesses that start a real server process share: a free loopback port, and polling an
// HTTP endpoint until the process serves (never a sleep standing in for readiness).
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `url` until `ready` accepts the response; fails with the process's recent output when it
 * exits or the time runs out.
 */
export async function waitServing(name: string, url: string, child: ChildProcess, output: () => string, timeoutMs: number, ready: (res: Response) => boolean = (res) => res.ok): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output()}`);
    try {
      if (ready(await fetch(url))) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms: ${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
