// A rolling restart of two gateway processes behind a small round-robin TCP balancer that, like
// a Service, sends new connections only to backends whose /readyz answers 200: no request lost.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { buildWorkspaces } from '../support/cli.js';
import { dataOf, readyStatus, sleep, startGatewayProcess, startMockProcess, streamOnce, type GatewayProcess, type MockProcess, type StreamResult } from './support.js';

interface Backend {
  gateway: GatewayProcess;
  ready: boolean;
}

/** Round robin over ready backends, per connection; readiness polled every 50 ms. No retries. */
class Balancer {
  readonly backends: Backend[] = [];
  private next = 0;
  private readonly poll: NodeJS.Timeout;
  readonly server: Server;

  constructor() {
    this.server = createServer((client) => {
      const ready = this.backends.filter((b) => b.ready);
      const backend = ready[this.next++ % Math.max(1, ready.length)];
      if (!backend) return void client.destroy();
      const upstream = connect(backend.gateway.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    this.poll = setInterval(() => {
      for (const b of this.backends) {
        readyStatus(b.gateway.adminUrl).then(
          (status) => (b.ready = status === 200),
          () => (b.ready = false),
        );
      }
    }, 50);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  add(gateway: GatewayProcess): void {
    this.backends.push({ gateway, ready: false });
  }

  remove(gateway: GatewayProcess): void {
    this.backends.splice(
      this.backends.findIndex((b) => b.gateway === gateway),
      1,
    );
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let mock: MockProcess;

beforeAll(async () => {
  await buildWorkspaces();
  // 20 tokens at 20 tokens/s: ~1 s streams.
  mock = await startMockProcess(['--tokens-per-second', '20', '--response-tokens', '20']);
}, 180_000);

afterAll(async () => {
  await mock?.cli.stop();
});

const settings = { drainDelay: '1s', maxStreamDuration: '20s', heartbeat: '15s' };

describe('rolling restart', () => {
  it('loses no request while two gateways are replaced one after the other', async () => {
    const balancer = new Balancer();
    const port = await balancer.listen();
    const live: GatewayProcess[] = [await startGatewayProcess(mock, settings), await startGatewayProcess(mock, settings)];
    live.forEach((g) => balancer.add(g));
    try {
    while (!balancer.backends.every((b) => b.ready)) await sleep(20);

    // Eight clients, each sending streams back to back on fresh connections.
    let running = true;
    const results: StreamResult[] = [];
    const clients = Array.from({ length: 8 }, async (_, i) => {
      while (running) results.push(await streamOnce(port, i % 2 === 0 ? 'openai' : 'anthropic'));
    });

    const exits: Promise<{ code: number | null }>[] = [];
    for (let i = 0; i < 2; i++) {
      await sleep(1000);
      const fresh = await startGatewayProcess(mock, settings);
      balancer.add(fresh);
      while (!balancer.backends.find((b) => b.gateway === fresh)!.ready) await sleep(20);
      const old = live[i]!;
      old.cli.child.kill('SIGTERM');
      exits.push(old.exited.then((exit) => (balancer.remove(old), exit)));
      live.push(fresh);
    }
    expect((await Promise.all(exits)).map((e) => e.code)).toEqual([0, 0]);
    await sleep(500);
    running = false;
    await Promise.all(clients);

    // 8 clients for ~5 s of ~1 s streams.
    expect(results.length).toBeGreaterThanOrEqual(30);
    const lost = results.filter((r) => {
      if (r.status !== 200 || r.error !== undefined) return true;
      const last = r.events.at(-1) ?? '';
      return !(dataOf(last) === '[DONE]' || last.startsWith('event: message_stop'));
    });
    expect(lost).toEqual([]);
    expect(results.some((r) => r.events.some((e) => e.includes('gateway_shutdown') || e.includes('overloaded_error')))).toBe(false);

    } finally {
      await balancer.close();
      await Promise.all(live.map((g) => g.cli.stop()));
    }
  }, 60_000);
});
