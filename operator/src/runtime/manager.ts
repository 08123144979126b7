// Runs an operator process: informers (on every replica, so a standby has a warm cache), the
// controllers (only while this replica holds the leader lease), and one HTTP port with /healthz,
// /readyz and /metrics. A graceful stop (SIGTERM) drains the controllers, releases the lease,
// stops the watches and closes the port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { realClock, sleep, type Clock } from './clock.js';
import type { Controller } from './controller.js';
import type { Informer, InformerHealth } from './informer.js';
import { LeaderElector, type LeaderElectorOptions } from './leader.js';
import { errorMessage, silentLogger, type Logger } from './logger.js';

export interface ManagerOptions {
  /** Port for /healthz, /readyz and /metrics; 0 picks a free one. Default 8080. */
  port?: number;
  /** Default 0.0.0.0 (probes and scrapes come from outside the pod). */
  host?: string;
  /** Default: a new registry with Node's default process metrics. */
  registry?: Registry;
  logger?: Logger;
  clock?: Clock;
  /** Run controllers only while holding this lease; false = always run them (one replica). */
  leaderElection: Omit<LeaderElectorOptions, 'callbacks' | 'clock' | 'logger' | 'registry'> | false;
  /** /readyz stays ready while a broken watch is re-established for at most this long. Default 10 s. */
  watchDownToleranceMs?: number;
  /** How long a graceful stop lets controllers finish queued work before cutting it. Default 15 s. */
  drainTimeoutMs?: number;
}

export type ManagerExit = { reason: 'stopped' } | { reason: 'lost-leadership' } | { reason: 'error'; error: string };

export interface Readiness {
  ready: boolean;
  stopping: boolean;
  leader: boolean | undefined;
  informers: Array<InformerHealth & { ok: boolean }>;
}

export class Manager {
  readonly registry: Registry;
  readonly elector: LeaderElector | undefined;
  private readonly informers: Informer[] = [];
  private readonly controllers: Controller[] = [];
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly tolerance: number;
  private readonly drainMs: number;
  private readonly server: http.Server;
  private readonly listenOn: { port: number; host: string };
  private controllersStarted = false;
  private controllersStopping: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private exit: ManagerExit | undefined;
  private exitWaiters: Array<(exit: ManagerExit) => void> = [];
  private started = false;

  constructor(options: ManagerOptions) {
    this.log = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    this.tolerance = options.watchDownToleranceMs ?? 10_000;
    this.drainMs = options.drainTimeoutMs ?? 15_000;
    this.listenOn = { port: options.port ?? 8080, host: options.host ?? '0.0.0.0' };
    if (options.registry) {
      this.registry = options.registry;
    } else {
      this.registry = new Registry();
      collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_operator_' });
    }
    if (options.leaderElection) {
      this.elector = new LeaderElector({
        ...options.leaderElection,
        clock: this.clock,
        logger: this.log,
        registry: this.registry,
        callbacks: {
          onStartedLeading: () => this.startControllers(),
          onStoppedLeading: () => void this.stopControllers(false),
        },
      });
    }
    this.server = http.createServer((req, res) => void this.serve(req, res));
  }

  addInformer<T extends Informer>(informer: T): T {
    if (this.started) throw new Error('add informers before start()');
    this.informers.push(informer as unknown as Informer);
    return informer;
  }

  addController(controller: Controller): Controller {
    if (this.started) throw new Error('add controllers before start()');
    this.controllers.push(controller);
    return controller;
  }

  /** Listens, starts the informers and campaigns for leadership (or starts the controllers).
   *  Resolves once listening; use wait() for the end. */
  async start(): Promise<void> {
    if (this.started) throw new Error('manager already started');
    this.started = true;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.listenOn.port, this.listenOn.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.log.info({ port: this.port }, 'serving /healthz, /readyz and /metrics');
    for (const i of this.informers) i.start();
    if (this.elector) {
      this.elector.run().then(
        () => {
          // The elector returns on stop() or after losing the lease; only the latter ends us here.
          if (!this.stopping) void this.shutdown({ reason: 'lost-leadership' });
        },
        (err: unknown) => void this.shutdown({ reason: 'error', error: errorMessage(err) }),
      );
    } else {
      this.startControllers();
    }
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Resolves when the manager has stopped, with why (the caller decides the exit code). */
  wait(): Promise<ManagerExit> {
    if (this.exit) return Promise.resolve(this.exit);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  /** Graceful stop: drain controllers, release the lease, stop informers, close the port. */
  stop(): Promise<void> {
    return this.shutdown({ reason: 'stopped' });
  }

  /** Stops gracefully on the first of `signals`; returns a function that removes the handlers. */
  handleSignals(signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): () => void {
    const handler = (signal: NodeJS.Signals): void => {
      this.log.info({ signal }, 'shutting down');
      void this.stop();
    };
    for (const s of signals) process.once(s, handler);
    return () => {
      for (const s of signals) process.off(s, handler);
    };
  }

  readiness(): Readiness {
    const informers = this.informers.map((i) => {
      const h = i.health();
      return { ...h, ok: h.synced && (h.watching || h.watchDownForMs <= this.tolerance) };
    });
    const stopping = this.stopping !== undefined;
    return {
      ready: !stopping && informers.every((i) => i.ok),
      stopping,
      leader: this.elector ? this.elector.isLeader() : undefined,
      informers,
    };
  }

  private startControllers(): void {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    for (const c of this.controllers) {
      c.start().catch((err: unknown) => this.log.error({ controller: c.name, err: errorMessage(err) }, 'controller failed'));
    }
  }

  private stopControllers(drain: boolean): Promise<void> {
    if (!this.controllersStarted) return Promise.resolve();
    this.controllersStopping ??= (async () => {
      if (drain) {
        const drained = Promise.all(this.controllers.map((c) => c.stop({ drain: true })));
        const ac = new AbortController();
        await Promise.race([drained, sleep(this.clock, this.drainMs, ac.signal)]);
        ac.abort();
      }
      await Promise.all(this.controllers.map((c) => c.stop()));
    })();
    return this.controllersStopping;
  }

  private shutdown(exit: ManagerExit): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason: exit.reason }, 'manager stopping');
      // Controllers first, then the lease: two leaders must never act at once.
      await this.stopControllers(exit.reason === 'stopped');
      await this.elector?.stop();
      await Promise.all(this.informers.map((i) => i.stop()));
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
      this.exit = exit;
      for (const w of this.exitWaiters) w(exit);
      this.exitWaiters = [];
      this.log.info({ reason: exit.reason }, 'manager stopped');
    })();
    return this.stopping;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      } else if (path === '/healthz' || path === '/livez') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const r = this.readiness();
        res.writeHead(r.ready ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify(r) + '\n');
      } else if (path === '/metrics') {
        const body = await this.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(body);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      this.log.error({ path, err: errorMessage(err) }, 'probe handler failed');
      if (!res.headersSent) res.writeHead(500).end();
    }
  }
}
