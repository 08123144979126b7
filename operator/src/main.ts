// The operator process: parses the command line, connects to the apiserver, wires the Manager
// (informers, controllers, leader election, /healthz /readyz /metrics) and maps how it ended to an
// exit code: 0 after a graceful stop (SIGTERM/SIGINT, lease released), 1 after losing leadership or
// a fatal error (the pod restarts with a fresh cache), 2 for a bad command line.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { setupControllers } from './controllers/index.js';
import { kubeTargets, LoadTracker, startExternalScaler, type ExternalScaler } from './scaler/index.js';
import {
  defaultIdentity,
  errorMessage,
  KubeClient,
  kubeLeaseClient,
  Manager,
  METRIC_PREFIX,
  realClock,
  type Logger,
  type RequestOptions,
  type WatchHandlers,
  type WatchOptions,
} from './runtime/index.js';

export const USAGE = `Usage: switchboard-operator --data-plane-image IMAGE [options]

Reconciles GatewayConfig and RoutingModel resources into ConfigMaps and data-plane workloads.

Options:
  --kubeconfig PATH           kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or the
                              in-cluster service account)
  --namespace NS              watch only this namespace (default: all namespaces)
  --data-plane-image IMAGE    container image of the data plane (required)
  --metrics-port N            port for /healthz, /readyz and /metrics (default 8081; 0 = any free)
  --metrics-bind-address IP   address that port listens on (default 0.0.0.0)
  --leader-elect[=BOOL]       run controllers only while holding the leader lease (default true);
                              --leader-elect=false or --no-leader-elect for a single replica
  --lease-namespace NS        namespace of the Lease (default: --namespace, else $POD_NAMESPACE,
                              else the pod's service-account namespace, else "default")
  --lease-name NAME           name of the Lease (default switchboard-operator)
  --leader-elect-lease-duration D   how long a lease is valid without renewal (default 15s)
  --leader-elect-renew-deadline D   the leader gives up (and exits 1) when it cannot renew for
                                    this long, e.g. while the apiserver is down (default 10s)
  --leader-elect-retry-period D     between acquire attempts and renewals (default 2s)
                              (D: a duration such as 500ms, 10s or 1m)
  --identity ID               this replica's identity in the Lease (default: $POD_NAME, else
                              hostname_random)
  --workers N                 concurrent reconciles per controller (default 2)
  --keda-scaler-address ADDR  KEDA is installed: own a ScaledObject per autoscaled GatewayConfig,
                              its external-push trigger pointing at ADDR (host:port of this
                              operator's external-scaler Service); default: no ScaledObjects
  --external-scaler-port N    serve KEDA's external scaler gRPC API on N (default: off)
  --log-level LEVEL           trace, debug, info, warn, error or fatal (default info, or $LOG_LEVEL)
  -h, --help                  print this help and exit
`;

export interface OperatorFlags {
  kubeconfig: string | undefined;
  namespace: string | undefined;
  dataPlaneImage: string;
  metricsPort: number;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaseNamespace: string | undefined;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  identity: string | undefined;
  workers: number;
  logLevel: string;
  kedaScalerAddress?: string | undefined;
  externalScalerPort?: number | undefined;
}

/** A command-line mistake: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
// A DNS-1123 subdomain (Lease and namespace names are labels, which also match this).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

type FlagKind = 'string' | 'boolean';
const FLAGS: Record<string, FlagKind> = {
  kubeconfig: 'string',
  namespace: 'string',
  'data-plane-image': 'string',
  'metrics-port': 'string',
  'metrics-bind-address': 'string',
  'leader-elect': 'boolean',
  'lease-namespace': 'string',
  'lease-name': 'string',
  'leader-elect-lease-duration': 'string',
  'leader-elect-renew-deadline': 'string',
  'leader-elect-retry-period': 'string',
  identity: 'string',
  workers: 'string',
  'log-level': 'string',
  'keda-scaler-address': 'string',
  'external-scaler-port': 'string',
  help: 'boolean',
};

function parseBool(flag: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--${flag} must be true or false, got "${value}"`);
}

function parseInteger(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : Number.NaN;
  if (!(ms >= 1)) throw new UsageError(`--${flag} must be a duration such as 500ms, 10s or 1m, got "${value}"`);
  return ms;
}

function checkName(flag: string, value: string, pattern: RegExp, what: string): string {
  if (value.length > 253 || !pattern.test(value)) throw new UsageError(`--${flag} must be ${what}, got "${value}"`);
  return value;
}

/** Parses argv (without node and the script). Returns 'help' for -h/--help. */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): OperatorFlags | 'help' {
  const values = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') return 'help';
    if (!arg.startsWith('--') || arg === '--') throw new UsageError(`unexpected argument "${arg}" (this command takes only --flags)`);
    const eq = arg.indexOf('=');
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name.startsWith('no-') && FLAGS[name.slice(3)] === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      name = name.slice(3);
      inline = 'false';
    }
    const kind = FLAGS[name];
    if (!kind) throw new UsageError(`unknown flag --${name}`);
    if (values.has(name)) throw new UsageError(`--${name} given more than once`);
    if (kind === 'boolean') {
      values.set(name, inline === undefined ? true : parseBool(name, inline));
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (value === '') throw new UsageError(`--${name} must not be empty`);
    values.set(name, value);
  }
  if (values.get('help') === true) return 'help';

  const str = (name: string): string | undefined => values.get(name) as string | undefined;
  const image = str('data-plane-image');
  if (image === undefined) throw new UsageError('--data-plane-image is required (the container image the operator runs the data plane with)');
  if (/\s/.test(image)) throw new UsageError(`--data-plane-image must be an image reference without spaces, got "${image}"`);
  const namespace = str('namespace');
  if (namespace !== undefined) checkName('namespace', namespace, DNS_LABEL, 'a namespace name (lower-case letters, digits and "-")');
  const leaseNamespace = str('lease-namespace');
  if (leaseNamespace !== undefined) checkName('lease-namespace', leaseNamespace, DNS_LABEL, 'a namespace name (lower-case letters, digits and "-")');
  const leaseName = checkName('lease-name', str('lease-name') ?? 'switchboard-operator', DNS_SUBDOMAIN, 'a Lease name (lower-case letters, digits, "-" and ".")');
  const identity = str('identity') ?? (env.POD_NAME || undefined);
  if (identity !== undefined && identity.length > 128) throw new UsageError(`--identity must be at most 128 characters`);
  const logLevel = str('log-level') ?? env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`${values.has('log-level') ? '--log-level' : 'LOG_LEVEL'} must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const leaseDurationMs = parseDuration('leader-elect-lease-duration', str('leader-elect-lease-duration') ?? '15s');
  const renewDeadlineMs = parseDuration('leader-elect-renew-deadline', str('leader-elect-renew-deadline') ?? '10s');
  const retryPeriodMs = parseDuration('leader-elect-retry-period', str('leader-elect-retry-period') ?? '2s');
  if (!(leaseDurationMs > renewDeadlineMs)) throw new UsageError('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
  // The elector jitters retries by up to 20 %.
  if (!(renewDeadlineMs > retryPeriodMs * 1.2)) throw new UsageError('--leader-elect-renew-deadline must be greater than 1.2 × --leader-elect-retry-period');
  return {
    kubeconfig: str('kubeconfig'),
    namespace,
    dataPlaneImage: image,
    metricsPort: parseInteger('metrics-port', str('metrics-port') ?? '8081', 0, 65535),
    metricsBindAddress: str('metrics-bind-address') ?? '0.0.0.0',
    leaderElect: (values.get('leader-elect') as boolean | undefined) ?? true,
    leaseNamespace,
    leaseName,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    identity,
    workers: parseInteger('workers', str('workers') ?? '2', 1, 64),
    logLevel,
    kedaScalerAddress: str('keda-scaler-address'),
    externalScalerPort: str('external-scaler-port') === undefined ? undefined : parseInteger('external-scaler-port', str('external-scaler-port')!, 1, 65535),
  };
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** --lease-namespace, else --namespace, else where this pod runs, else "default". */
export function leaseNamespaceOf(flags: OperatorFlags, env: NodeJS.ProcessEnv = process.env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): string {
  if (flags.leaseNamespace) return flags.leaseNamespace;
  if (flags.namespace) return flags.namespace;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const ns = readFile(SERVICE_ACCOUNT_NAMESPACE).trim();
    if (ns) return ns;
  } catch {
    // not in a pod
  }
  return 'default';
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The verb and resource of an API path, as the apiserver's own request metrics name them
 *  (`list`/`get`/`watch`, `create`, `update`, `patch`/`apply`, `delete`; `configmaps`, `gatewayconfigs/status`). */
export function describeRequest(method: Method, path: string, options: { watch?: boolean; contentType?: string } = {}): { verb: string; resource: string } {
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  // /api/v1/... or /apis/group/version/...
  let rest = segments[0] === 'api' ? segments.slice(2) : segments[0] === 'apis' ? segments.slice(3) : segments;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource = '', name, subresource] = rest;
  const collection = name === undefined;
  let verb: string;
  if (options.watch) verb = 'watch';
  else if (method === 'GET') verb = collection ? 'list' : 'get';
  else if (method === 'POST') verb = 'create';
  else if (method === 'PUT') verb = 'update';
  else if (method === 'PATCH') verb = options.contentType === 'application/apply-patch+yaml' ? 'apply' : 'patch';
  else verb = collection ? 'deletecollection' : 'delete';
  return { verb, resource: subresource ? `${resource}/${subresource}` : resource };
}

/** A KubeClient that counts its own requests, so /metrics shows what the operator asks of the
 *  apiserver (the benchmark's request count and the no-writes-in-steady-state check use it). */
export class CountingKubeClient extends KubeClient {
  private counter: Counter<'verb' | 'resource' | 'code'> | undefined;
  private log: Logger | undefined;

  /** Logs every write (lease renewals aside) at debug level: what the operator changed, and when. */
  logWritesTo(log: Logger): this {
    this.log = log;
    return this;
  }

  countInto(registry: Registry): this {
    this.counter = new Counter({
      name: `${METRIC_PREFIX}api_requests_total`,
      help: 'Requests this process made to the apiserver, by verb, resource and HTTP status code (watches counted when opened).',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    });
    return this;
  }

  override async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const labels = describeRequest(method, path, { contentType: options.contentType });
    let code = '2xx';
    try {
      return await super.request<T>(method, path, options);
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      code = typeof status === 'number' ? String(status) : 'error';
      throw err;
    } finally {
      this.counter?.inc({ ...labels, code });
      if (method !== 'GET' && labels.resource !== 'leases') this.log?.debug({ verb: labels.verb, resource: labels.resource, path, code }, 'api write');
    }
  }

  override async watch(path: string, query: RequestOptions['query'], handlers: WatchHandlers, options: WatchOptions = {}): Promise<void> {
    this.counter?.inc({ ...describeRequest('GET', path, { watch: true }), code: 'opened' });
    return super.watch(path, query, handlers, options);
  }
}

export interface MainIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Runs the operator until it stops; resolves with the process exit code. */
export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => void process.stderr.write(t));
  let flags: OperatorFlags;
  try {
    const parsed = parseFlags(argv, env);
    if (parsed === 'help') {
      stdout(USAGE);
      return 0;
    }
    flags = parsed;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr(`switchboard-operator: ${err.message}\nRun switchboard-operator --help for the flags.\n`);
    return 2;
  }

  const log: Logger = pino({ name: 'switchboard-operator', level: flags.logLevel });
  let client: CountingKubeClient;
  try {
    const kube = flags.kubeconfig ? KubeClient.fromFile(flags.kubeconfig) : KubeClient.fromDefault();
    client = new CountingKubeClient(kube.config).logWritesTo(log);
    void client.server; // fails here, not in the first request, if the kubeconfig has no cluster
  } catch (err) {
    log.error({ kubeconfig: flags.kubeconfig ?? env.KUBECONFIG, err: errorMessage(err) }, 'cannot load the kubeconfig');
    return 1;
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  client.countInto(registry);
  const leaseNamespace = leaseNamespaceOf(flags, env);
  const identity = flags.identity ?? defaultIdentity();
  const manager = new Manager({
    port: flags.metricsPort,
    host: flags.metricsBindAddress,
    registry,
    logger: log,
    leaderElection: flags.leaderElect
      ? {
          lease: kubeLeaseClient(client, leaseNamespace, flags.leaseName),
          identity,
          leaseDurationMs: flags.leaseDurationMs,
          renewDeadlineMs: flags.renewDeadlineMs,
          retryPeriodMs: flags.retryPeriodMs,
        }
      : false,
  });
  setupControllers(manager, client, {
    namespace: flags.namespace,
    dataPlaneImage: flags.dataPlaneImage,
    logger: log,
    workers: flags.workers,
    ...(flags.kedaScalerAddress ? { keda: { scalerAddress: flags.kedaScalerAddress } } : {}),
  });

  const removeSignalHandlers = manager.handleSignals(['SIGTERM', 'SIGINT']);
  try {
    await manager.start();
  } catch (err) {
    log.error({ port: flags.metricsPort, err: errorMessage(err) }, 'cannot start');
    removeSignalHandlers();
    await manager.stop();
    return 1;
  }
  log.info(
    {
      apiserver: client.server,
      namespace: flags.namespace ?? '(all)',
      leaderElection: flags.leaderElect ? { lease: `${leaseNamespace}/${flags.leaseName}`, identity } : false,
      dataPlaneImage: flags.dataPlaneImage,
      port: manager.port,
    },
    'operator started',
  );
  // Every replica serves the external scaler (it reads pods and their metrics; no leader needed).
  let scaler: ExternalScaler | undefined;
  if (flags.externalScalerPort !== undefined) {
    try {
      const tracker = new LoadTracker({ targets: kubeTargets(client), clock: realClock });
      scaler = await startExternalScaler({ load: (ns, gw) => tracker.load(ns, gw), host: flags.metricsBindAddress, port: flags.externalScalerPort, logger: log });
    } catch (err) {
      log.error({ port: flags.externalScalerPort, err: errorMessage(err) }, 'cannot start the external scaler');
      removeSignalHandlers();
      await manager.stop();
      return 1;
    }
  }
  const exit = await manager.wait();
  await scaler?.stop();
  removeSignalHandlers();
  if (exit.reason === 'stopped') return 0;
  log.error({ reason: exit.reason, ...(exit.reason === 'error' ? { err: exit.error } : {}) }, 'operator exiting');
  return 1;
}
