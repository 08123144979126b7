// The real helm binary (helm 4 from the cluster tools in ~/.cache/switchboard/bin) run on the
// chart in charts/switchboard, with its own config and cache directories, plus YAML helpers for
// reading what it rendered.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { defaultBinDir } from '../cluster/cluster.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const chartDir = path.join(repoRoot, 'charts', 'switchboard');
export const generatedCrdDir = path.join(repoRoot, 'crds', 'generated');

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const helmHome = mkdtempSync(path.join(os.tmpdir(), 'switchboard-helm-'));

/** Runs helm; never throws on a non-zero exit. `env` adds to the environment (e.g. KUBECONFIG). */
export function helm(args: string[], options: { env?: NodeJS.ProcessEnv; binDir?: string } = {}): Promise<HelmResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CONFIG_HOME: path.join(helmHome, 'config'),
    HELM_CACHE_HOME: path.join(helmHome, 'cache'),
    HELM_DATA_HOME: path.join(helmHome, 'data'),
    ...options.env,
  };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(options.binDir ?? defaultBinDir(), 'helm'), args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `--set` flags from a flat map of dotted keys. */
export function sets(values: Record<string, string | number | boolean>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** `helm template` of the chart; throws with helm's stderr when it fails. */
export async function render(release: string, namespace: string, values: Record<string, string | number | boolean> = {}, extra: string[] = []): Promise<{ text: string; objects: Manifest[] }> {
  const result = await helm(['template', release, chartDir, '--namespace', namespace, ...sets(values), ...extra]);
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`);
  return { text: result.stdout, objects: parseManifests(result.stdout) };
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

export function find(objects: Manifest[], kind: string, name?: string): Manifest {
  const hit = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hit;
}

/** The shape of the Deployment's pod template the tests read. */
export interface DeploymentShape {
  spec: {
    replicas: number;
    strategy: { type: string };
    template: {
      spec: {
        serviceAccountName: string;
        securityContext: Record<string, unknown>;
        containers: Array<{ args: string[]; securityContext: Record<string, unknown>; ports: Array<{ name: string; containerPort: number }> }>;
      };
    };
  };
}
