// A real, local Kubernetes control plane for end-to-end tests: etcd + kube-apiserver on loopback,
// built from source by scripts/cluster/build.sh (no fakes). No controller-manager, scheduler or
// kubelet runs, so pods never start, namespaces never finish deleting and owner references are
// never garbage-collected; everything the apiserver itself does (CRDs, CEL, SSA, watches, RBAC,
// admission) is real.
//
// Library:  const c = await startCluster();  ...  await c.restartApiserver();  ...  await c.stop();
// CLI:      node test/cluster/cluster.ts up|down|status|restart-apiserver [--dir .local/cluster]
//
// This file is self-contained (only node: imports) and uses only erasable TypeScript, so Node 24
// runs it directly and jest imports it as a module.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { access, chmod, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartClusterOptions {
  /** Where kube-apiserver, etcd and kubectl live. Default: defaultBinDir(). */
  binDir?: string;
  /** Directory for certificates, etcd data, logs and state; created if missing, removed by stop().
   *  Default: a fresh temporary directory. */
  workDir?: string;
  /** Also write the admin kubeconfig here (e.g. .local/cluster/kubeconfig). */
  kubeconfigPath?: string;
  /** How long etcd and then the apiserver may take to become ready. Default 90 s each. */
  readyTimeoutMs?: number;
  /** How long a process gets after SIGTERM before SIGKILL. Default 10 s. */
  stopTimeoutMs?: number;
  /** Extra kube-apiserver flags, appended after the defaults (a later flag wins). */
  apiserverArgs?: string[];
  /** Start the processes in their own session so they outlive this Node process (CLI use). */
  detached?: boolean;
  /** Keep workDir on stop() (for debugging). */
  keepWorkDir?: boolean;
  /** Progress messages. Default: none. */
  log?: (message: string) => void;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (use with `-f -`). */
  input?: string;
  /** Kubeconfig to use instead of the admin one (see createUser). */
  kubeconfig?: string;
  timeoutMs?: number;
}

export interface Cluster {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (user `switchboard-admin`, group system:masters), certificates embedded. */
  readonly kubeconfigPath: string;
  readonly workDir: string;
  readonly binDir: string;
  /** CA that signed the serving and client certificates (PEM file). */
  readonly caFile: string;
  readonly ports: { readonly apiserver: number; readonly etcdClient: number; readonly etcdPeer: number };
  readonly etcdUrl: string;
  /** Current process ids (undefined when that process is stopped). */
  pids(): { etcd: number | undefined; apiserver: number | undefined };
  /** process.env plus KUBECONFIG=<admin kubeconfig> and binDir first on PATH. */
  env(): NodeJS.ProcessEnv;
  /** Runs the real kubectl from binDir against this cluster; resolves with the exit code, never throws on a non-zero one. */
  kubectl(args: string[], options?: KubectlOptions): Promise<CommandResult>;
  /** Issues a client certificate for `name` in `groups` and writes a kubeconfig for it; returns its path. */
  createUser(name: string, groups?: string[]): Promise<string>;
  /** SIGTERM (then SIGKILL) the apiserver only; etcd keeps running. */
  stopApiserver(): Promise<void>;
  /** Start the apiserver again with the same port, certificates and etcd; waits for /readyz. */
  startApiserver(): Promise<void>;
  /** stopApiserver() then startApiserver(). */
  restartApiserver(): Promise<void>;
  /** The last `lines` lines of the apiserver log. */
  apiserverLogTail(lines?: number): string;
  /** Stops the apiserver and etcd (SIGTERM, then SIGKILL after stopTimeoutMs) and removes workDir. */
  stop(): Promise<void>;
}

/** What a running cluster needs to be found again by another process (workDir/state.json). */
interface State {
  version: 1;
  binDir: string;
  workDir: string;
  detached: boolean;
  keepWorkDir: boolean;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  ports: { apiserver: number; etcdClient: number; etcdPeer: number };
  apiserverArgs: string[];
  etcdArgs: string[];
  extraKubeconfig: string | undefined;
  pidFiles: { etcd: string; apiserver: string } | undefined;
  pids: { etcd: number | undefined; apiserver: number | undefined };
}

const ADMIN_USER = 'switchboard-admin';
const SERVICE_CIDR = '10.0.0.0/16';
const SERVICE_IP = '10.0.0.1';

export function defaultCacheDir(): string {
  return process.env.SWITCHBOARD_CACHE || path.join(os.homedir(), '.cache', 'switchboard');
}

export function defaultBinDir(): string {
  return path.join(defaultCacheDir(), 'bin');
}

export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const binDir = path.resolve(options.binDir ?? defaultBinDir());
  for (const bin of ['etcd', 'kube-apiserver']) {
    try {
      await access(path.join(binDir, bin), constants.X_OK);
    } catch {
      throw new Error(`${bin} not found in ${binDir}: run scripts/cluster/ensure.sh (or scripts/cluster/build.sh) first`);
    }
  }
  let workDir: string;
  if (options.workDir) {
    workDir = path.resolve(options.workDir);
    await mkdir(workDir, { recursive: true });
  } else {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'switchboard-cluster-'));
  }
  const [apiserver, etcdClient, etcdPeer] = await freePorts(3);
  const ports = { apiserver: apiserver!, etcdClient: etcdClient!, etcdPeer: etcdPeer! };
  const f = files(workDir);
  await mkdir(f.pki, { recursive: true });
  log(`generating certificates in ${f.pki}`);
  await generatePki(f);
  await writeFile(f.kubeconfig, kubeconfigYaml(`https://127.0.0.1:${ports.apiserver}`, f.ca, f.adminCrt, f.adminKey, ADMIN_USER), { mode: 0o600 });
  if (options.kubeconfigPath) {
    await mkdir(path.dirname(path.resolve(options.kubeconfigPath)), { recursive: true });
    await writeFile(options.kubeconfigPath, await readFile(f.kubeconfig), { mode: 0o600 });
  }
  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
  const state: State = {
    version: 1,
    binDir,
    workDir,
    detached: options.detached ?? false,
    keepWorkDir: options.keepWorkDir ?? false,
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    ports,
    etcdArgs: [
      '--name=switchboard',
      `--data-dir=${f.etcdData}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=switchboard=${peerUrl}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync', // test data: durability across machine crashes is not needed
      '--log-level=warn',
    ],
    apiserverArgs: [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${f.pki}`,
      `--tls-cert-file=${f.servingCrt}`,
      `--tls-private-key-file=${f.servingKey}`,
      `--client-ca-file=${f.ca}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${f.saPub}`,
      `--service-account-signing-key-file=${f.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=RBAC',
      // The ServiceAccount admission plugin rejects pods whose service account does not exist;
      // the controller that creates `default` service accounts (controller-manager) does not run.
      '--disable-admission-plugins=ServiceAccount',
      // The `kubernetes` Service's endpoints would be 127.0.0.1, which the API rejects as loopback.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      ...(options.apiserverArgs ?? []),
    ],
    extraKubeconfig: options.kubeconfigPath ? path.resolve(options.kubeconfigPath) : undefined,
    pidFiles: undefined,
    pids: { etcd: undefined, apiserver: undefined },
  };
  const cluster = makeCluster(state, log);
  try {
    await cluster.startEtcd();
    await cluster.startApiserver();
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
  return cluster;
}

/** A handle on a cluster started by another process (e.g. `cluster.ts up`), from its state.json. */
export async function attachCluster(stateFile: string, options: { log?: (message: string) => void } = {}): Promise<Cluster> {
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as State;
  if (state.version !== 1) throw new Error(`${stateFile}: unknown state version ${String(state.version)}`);
  if (state.pids.etcd !== undefined && !isAlive(state.pids.etcd, 'etcd')) state.pids.etcd = undefined;
  if (state.pids.apiserver !== undefined && !isAlive(state.pids.apiserver, 'kube-apiserver')) state.pids.apiserver = undefined;
  return makeCluster(state, options.log ?? (() => {}));
}

interface InternalCluster extends Cluster {
  startEtcd(): Promise<void>;
  /** Record pid files (CLI use) and persist the state. */
  setPidFiles(pidFiles: { etcd: string; apiserver: string }): Promise<void>;
}

function makeCluster(state: State, log: (message: string) => void): InternalCluster {
  const f = files(state.workDir);
  const server = `https://127.0.0.1:${state.ports.apiserver}`;
  const etcdUrl = `http://127.0.0.1:${state.ports.etcdClient}`;
  const children: { etcd?: ChildProcess; apiserver?: ChildProcess } = {};
  let stopped = false;

  // Children of a test process must not outlive it, even when a test forgets stop().
  const onExit = (): void => {
    for (const pid of [state.pids.apiserver, state.pids.etcd]) {
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  };
  if (!state.detached) process.on('exit', onExit);

  const persist = async (): Promise<void> => {
    await writeFile(f.state, JSON.stringify(state, null, 2) + '\n');
    if (state.pidFiles) {
      for (const which of ['etcd', 'apiserver'] as const) {
        const pid = state.pids[which];
        if (pid === undefined) await rm(state.pidFiles[which], { force: true });
        else await writeFile(state.pidFiles[which], `${pid}\n`);
      }
    }
  };

  const launch = (which: 'etcd' | 'apiserver'): ChildProcess => {
    const bin = path.join(state.binDir, which === 'etcd' ? 'etcd' : 'kube-apiserver');
    const logFile = which === 'etcd' ? f.etcdLog : f.apiserverLog;
    const fd = openSync(logFile, 'a');
    writeSync(fd, `\n==== ${new Date().toISOString()} starting ${bin}\n`);
    try {
      const child = spawn(bin, which === 'etcd' ? state.etcdArgs : state.apiserverArgs, {
        stdio: ['ignore', fd, fd],
        detached: state.detached,
        cwd: state.workDir,
      });
      if (child.pid === undefined) throw new Error(`could not start ${bin}`);
      child.on('error', () => {}); // surfaced through the readiness wait
      if (state.detached) child.unref();
      children[which] = child;
      state.pids[which] = child.pid;
      return child;
    } finally {
      closeSync(fd);
    }
  };

  const stopProcess = async (which: 'etcd' | 'apiserver'): Promise<void> => {
    const pid = state.pids[which];
    if (pid === undefined) return;
    const name = which === 'etcd' ? 'etcd' : 'kube-apiserver';
    const child = children[which];
    if (child ? exitInfo(child) === undefined : isAlive(pid, name)) {
      log(`stopping ${name} (pid ${pid})`);
      signal(pid, 'SIGTERM');
      if (!(await waitGone(pid, name, state.stopTimeoutMs, child))) {
        log(`${name} (pid ${pid}) did not exit ${state.stopTimeoutMs} ms after SIGTERM: SIGKILL`);
        signal(pid, 'SIGKILL');
        if (!(await waitGone(pid, name, 5_000, child))) throw new Error(`${name} (pid ${pid}) survived SIGKILL`);
      }
    }
    state.pids[which] = undefined;
    delete children[which];
    await persist().catch(() => {});
  };

  const cluster: InternalCluster = {
    server,
    kubeconfigPath: f.kubeconfig,
    workDir: state.workDir,
    binDir: state.binDir,
    caFile: f.ca,
    ports: state.ports,
    etcdUrl,

    pids: () => ({ ...state.pids }),

    env: () => ({
      ...process.env,
      KUBECONFIG: f.kubeconfig,
      PATH: `${state.binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    }),

    kubectl: (args, options = {}) =>
      run(path.join(state.binDir, 'kubectl'), ['--kubeconfig', options.kubeconfig ?? f.kubeconfig, ...args], {
        input: options.input,
        timeoutMs: options.timeoutMs ?? 60_000,
        env: cluster.env(),
      }),

    async createUser(name, groups = []) {
      for (const s of [name, ...groups]) {
        if (!/^[A-Za-z0-9:._@-]+$/.test(s)) throw new Error(`createUser: unsupported character in ${JSON.stringify(s)}`);
      }
      const base = path.join(f.pki, `user-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
      const subj = [...groups.map((g) => `/O=${g}`), `/CN=${name}`].join('');
      await issueCert(f, base, subj, 'clientAuth', undefined);
      const kc = `${base}.kubeconfig`;
      await writeFile(kc, kubeconfigYaml(server, f.ca, `${base}.crt`, `${base}.key`, name), { mode: 0o600 });
      return kc;
    },

    async startEtcd() {
      if (state.pids.etcd !== undefined && isAlive(state.pids.etcd, 'etcd')) return;
      const t0 = Date.now();
      const child = launch('etcd');
      await persist();
      log(`etcd pid ${child.pid} on ${etcdUrl}`);
      await waitReady({
        what: 'etcd',
        timeoutMs: state.readyTimeoutMs,
        exited: () => exitInfo(child),
        logTail: () => tail(f.etcdLog, 40),
        probe: async () => {
          const r = await httpGet(`${etcdUrl}/health`, {});
          return { ok: r.status === 200 && /"health"\s*:\s*"true"/.test(r.body), detail: `${r.status} ${r.body.trim()}` };
        },
      });
      log(`etcd ready after ${Date.now() - t0} ms`);
    },

    async startApiserver() {
      if (stopped) throw new Error('cluster is stopped');
      if (state.pids.apiserver !== undefined && isAlive(state.pids.apiserver, 'kube-apiserver')) return;
      if (state.pids.etcd === undefined || !isAlive(state.pids.etcd, 'etcd')) throw new Error('etcd is not running');
      const t0 = Date.now();
      const child = launch('apiserver');
      await persist();
      log(`kube-apiserver pid ${child.pid} on ${server}`);
      const tls = { ca: readFileSync(f.ca), cert: readFileSync(f.adminCrt), key: readFileSync(f.adminKey) };
      await waitReady({
        what: 'kube-apiserver',
        timeoutMs: state.readyTimeoutMs,
        exited: () => exitInfo(child),
        logTail: () => tail(f.apiserverLog, 60),
        probe: async () => {
          const r = await httpGet(`${server}/readyz`, tls);
          const failing = r.body.split('\n').filter((l) => l.startsWith('[-]'));
          return { ok: r.status === 200 && r.body.trim() === 'ok', detail: `${r.status} ${failing.length ? failing.join('; ') : r.body.trim()}` };
        },
      });
      log(`kube-apiserver ready after ${Date.now() - t0} ms`);
    },

    stopApiserver: () => stopProcess('apiserver'),

    async restartApiserver() {
      await stopProcess('apiserver');
      await cluster.startApiserver();
    },

    apiserverLogTail: (lines = 60) => tail(f.apiserverLog, lines),

    async setPidFiles(pidFiles) {
      state.pidFiles = pidFiles;
      await persist();
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await stopProcess('apiserver');
        await stopProcess('etcd');
      } finally {
        process.off('exit', onExit);
        if (state.pidFiles) {
          await rm(state.pidFiles.etcd, { force: true });
          await rm(state.pidFiles.apiserver, { force: true });
        }
        if (state.extraKubeconfig) await rm(state.extraKubeconfig, { force: true });
        if (!state.keepWorkDir) await rm(state.workDir, { recursive: true, force: true });
      }
    },
  };
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// files and certificates

interface Files {
  dir: string;
  pki: string;
  ca: string;
  caKey: string;
  servingCrt: string;
  servingKey: string;
  adminCrt: string;
  adminKey: string;
  saKey: string;
  saPub: string;
  kubeconfig: string;
  etcdData: string;
  etcdLog: string;
  apiserverLog: string;
  state: string;
}

function files(dir: string): Files {
  const pki = path.join(dir, 'pki');
  return {
    dir,
    pki,
    ca: path.join(pki, 'ca.crt'),
    caKey: path.join(pki, 'ca.key'),
    servingCrt: path.join(pki, 'apiserver.crt'),
    servingKey: path.join(pki, 'apiserver.key'),
    adminCrt: path.join(pki, 'admin.crt'),
    adminKey: path.join(pki, 'admin.key'),
    saKey: path.join(pki, 'sa.key'),
    saPub: path.join(pki, 'sa.pub'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    etcdData: path.join(dir, 'etcd'),
    etcdLog: path.join(dir, 'etcd.log'),
    apiserverLog: path.join(dir, 'kube-apiserver.log'),
    state: path.join(dir, 'state.json'),
  };
}

const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = switchboard-test-ca
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
`;

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('openssl', args, { cwd, timeoutMs: 30_000, env: { ...process.env, OPENSSL_CONF: path.join(cwd, 'openssl.cnf') } });
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function generatePki(f: Files): Promise<void> {
  await writeFile(path.join(f.pki, 'openssl.cnf'), OPENSSL_CNF);
  await openssl(['req', '-x509', '-config', 'openssl.cnf', '-extensions', 'v3_ca', ...EC_KEY, '-keyout', f.caKey, '-out', f.ca, '-days', '3650'], f.pki);
  const san = [
    'IP:127.0.0.1',
    'IP:::1',
    `IP:${SERVICE_IP}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  await Promise.all([
    issueCert(f, path.join(f.pki, 'apiserver'), '/CN=kube-apiserver', 'serverAuth', san),
    issueCert(f, path.join(f.pki, 'admin'), `/O=system:masters/CN=${ADMIN_USER}`, 'clientAuth', undefined),
    (async () => {
      await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f.saKey], f.pki);
      await openssl(['pkey', '-in', f.saKey, '-pubout', '-out', f.saPub], f.pki);
    })(),
  ]);
  for (const key of [f.caKey, f.servingKey, f.adminKey, f.saKey]) await chmod(key, 0o600);
}

/** Writes `${base}.key` and `${base}.crt` signed by the cluster CA. */
async function issueCert(f: Files, base: string, subject: string, usage: 'serverAuth' | 'clientAuth', san: string | undefined): Promise<void> {
  const ext = `${base}.ext`;
  await writeFile(
    ext,
    [
      '[v3]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${usage}`,
      'authorityKeyIdentifier = keyid',
      ...(san ? [`subjectAltName = ${san}`] : []),
      '',
    ].join('\n'),
  );
  await openssl(['req', '-new', '-config', 'openssl.cnf', ...EC_KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject], f.pki);
  await openssl(
    ['x509', '-req', '-in', `${base}.csr`, '-CA', f.ca, '-CAkey', f.caKey, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
      '-days', '3650', '-extfile', ext, '-extensions', 'v3', '-out', `${base}.crt`],
    f.pki,
  );
  await chmod(`${base}.key`, 0o600);
  await rm(`${base}.csr`, { force: true });
  await rm(ext, { force: true });
}

function kubeconfigYaml(server: string, caFile: string, crtFile: string, keyFile: string, user: string): string {
  const b64 = (file: string): string => readFileSync(file).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: switchboard-test
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(caFile)}
users:
- name: ${user}
  user:
    client-certificate-data: ${b64(crtFile)}
    client-key-data: ${b64(keyFile)}
contexts:
- name: switchboard-test
  context:
    cluster: switchboard-test
    user: ${user}
current-context: switchboard-test
`;
}

// ---------------------------------------------------------------------------------------------
// processes

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** True if `pid` runs (not a zombie) and, where /proc tells, is the expected binary. */
function isAlive(pid: number, name: string): boolean {
  const st = procState(pid);
  if (st !== undefined) {
    if (st === 'Z' || st === 'X') return false;
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      return path.basename(argv0) === name;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Waits until `pid` has exited; for our own child also until Node has reaped it (its 'exit' event). */
async function waitGone(pid: number, name: string, timeoutMs: number, child: ChildProcess | undefined): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (child ? exitInfo(child) === undefined : isAlive(pid, name)) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

function exitInfo(child: ChildProcess): string | undefined {
  if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
  if (child.signalCode !== null) return `was killed by ${child.signalCode}`;
  return undefined;
}

async function waitReady(p: {
  what: string;
  timeoutMs: number;
  exited: () => string | undefined;
  logTail: () => string;
  probe: () => Promise<{ ok: boolean; detail: string }>;
}): Promise<void> {
  const deadline = Date.now() + p.timeoutMs;
  let wait = 50;
  let last: string;
  for (;;) {
    const gone = p.exited();
    if (gone) throw new Error(`${p.what} ${gone} before it became ready; last lines of its log:\n${p.logTail()}`);
    try {
      const r = await p.probe();
      if (r.ok) return;
      last = r.detail;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${p.what} not ready after ${p.timeoutMs} ms (last probe: ${last}); last lines of its log:\n${p.logTail()}`);
    }
    await delay(wait);
    wait = Math.min(wait * 2, 1000);
  }
}

function httpGet(url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const get = u.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { ...tls, timeout: 5_000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function run(cmd: string, args: string[], o: { input?: string | undefined; timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: o.env, cwd: o.cwd, timeout: o.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        if (err.killed) resolve({ code: -1, stdout, stderr: `${stderr}\n${cmd} killed after ${o.timeoutMs} ms` });
        else reject(err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    if (o.input !== undefined) child.stdin?.end(o.input);
    else child.stdin?.end();
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

// ---------------------------------------------------------------------------------------------
// CLI: node test/cluster/cluster.ts up|down|status|restart-apiserver [--dir DIR]

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  const i = argv.indexOf('--dir');
  const dir = path.resolve(i >= 0 && argv[i + 1] ? argv[i + 1]! : '.local/cluster');
  const stateLink = path.join(dir, 'state.json');
  const log = (m: string): void => console.error(`[cluster] ${m}`);
  const attached = async (): Promise<Cluster | undefined> => {
    if (!existsSync(stateLink)) return undefined;
    const { stateFile } = JSON.parse(await readFile(stateLink, 'utf8')) as { stateFile: string };
    if (!existsSync(stateFile)) return undefined;
    return attachCluster(stateFile, { log });
  };
  switch (cmd) {
    case 'up': {
      const existing = await attached();
      if (existing && existing.pids().etcd !== undefined && existing.pids().apiserver !== undefined) {
        log(`already running: ${existing.server} (kubeconfig ${path.join(dir, 'kubeconfig')})`);
        return 0;
      }
      if (existing) {
        log('found a stale cluster; cleaning it up');
        await existing.stop();
      }
      await mkdir(dir, { recursive: true });
      const c = (await startCluster({ detached: true, kubeconfigPath: path.join(dir, 'kubeconfig'), log })) as InternalCluster;
      await c.setPidFiles({ etcd: path.join(dir, 'etcd.pid'), apiserver: path.join(dir, 'kube-apiserver.pid') });
      await writeFile(stateLink, JSON.stringify({ stateFile: files(c.workDir).state }) + '\n');
      log(`up: ${c.server}`);
      console.log(`export KUBECONFIG=${path.join(dir, 'kubeconfig')}`);
      return 0;
    }
    case 'down': {
      const c = await attached();
      if (c) await c.stop();
      await rm(stateLink, { force: true });
      log(c ? 'down' : 'no cluster was running');
      return 0;
    }
    case 'restart-apiserver': {
      const c = await attached();
      if (!c) throw new Error(`no cluster state in ${dir}: run "up" first`);
      await c.restartApiserver();
      log(`apiserver restarted: ${c.server}`);
      return 0;
    }
    case 'status': {
      const c = await attached();
      const p = c?.pids();
      const up = p?.etcd !== undefined && p?.apiserver !== undefined;
      console.log(c ? `server ${c.server} etcd pid ${p?.etcd ?? '-'} kube-apiserver pid ${p?.apiserver ?? '-'} workDir ${c.workDir}` : 'not running');
      return up ? 0 : 1;
    }
    default:
      console.error('usage: node test/cluster/cluster.ts up|down|status|restart-apiserver [--dir .local/cluster]');
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`[cluster] ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
