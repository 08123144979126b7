// Where tracing settings come from: the runtime config's telemetry.tracing section first, then
// the standard OTEL_* environment variables, then defaults. Pure: config and env in, settings out.
import { randomUUID } from 'node:crypto';
import type { RuntimeTracing } from '@switchboard/crds/runtime';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingSettings {
  /** Full URL spans are posted to (…/v1/traces). */
  tracesUrl: string;
  protocol: OtlpProtocol;
  serviceName: string;
  /** Share of new traces sampled when the config sets none (OTEL_TRACES_SAMPLER_ARG, else 1). */
  defaultSampleRatio: number;
  /** Resource attributes naming this replica (k8s.pod.name, service.instance.id, …). */
  resource: Record<string, string>;
  /** Extra export request headers (OTEL_EXPORTER_OTLP_HEADERS, then …_TRACES_HEADERS over them). */
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
}

export class TracingSettingsError extends Error {}

const DEFAULT_ENDPOINT = 'http://localhost:4318';

function set(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * True when the gateway should trace: the config has a telemetry.tracing section, or an OTLP
 * endpoint is set in the environment; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off.
 */
export function tracingWanted(config: RuntimeTracing | undefined, env: NodeJS.ProcessEnv): boolean {
  if (set(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return false;
  if (config !== undefined) return true;
  if (set(env.OTEL_TRACES_EXPORTER)?.toLowerCase() === 'none') return false;
  return set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined || set(env.OTEL_EXPORTER_OTLP_ENDPOINT) !== undefined;
}

/** OTEL_TRACES_SAMPLER(_ARG) as a ratio for new traces; parent-based sampling is always on. */
function envSampleRatio(env: NodeJS.ProcessEnv): number {
  const sampler = set(env.OTEL_TRACES_SAMPLER)?.toLowerCase();
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if (sampler === 'always_on' || sampler === 'parentbased_always_on') return 1;
  const arg = set(env.OTEL_TRACES_SAMPLER_ARG);
  if (arg === undefined || (sampler !== undefined && !sampler.endsWith('traceidratio'))) return 1;
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new TracingSettingsError(`OTEL_TRACES_SAMPLER_ARG: got "${arg}"; expected a number from 0 to 1`);
  return ratio;
}

function tracesUrl(config: RuntimeTracing | undefined, env: NodeJS.ProcessEnv): string {
  // A signal-specific endpoint is used as is; a base endpoint gets /v1/traces appended.
  const base = config?.endpoint ?? (set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) === undefined ? (set(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? DEFAULT_ENDPOINT) : undefined);
  const url = base === undefined ? set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)! : `${base.replace(/\/+$/, '')}/v1/traces`;
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new TracingSettingsError(`tracing endpoint: got "${url}"; expected an http(s) URL`);
  return url;
}

function protocol(config: RuntimeTracing | undefined, env: NodeJS.ProcessEnv): OtlpProtocol {
  if (config?.protocol) return config.protocol;
  const given = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (given === undefined || given === 'http/protobuf' || given === 'http/json') return given ?? 'http/protobuf';
  throw new TracingSettingsError(`OTEL_EXPORTER_OTLP_PROTOCOL: got "${given}"; expected http/protobuf or http/json (grpc is not supported)`);
}

/** `key=value,key2=value2` (values percent-encoded); the error names the variable, never a value. */
function envHeaders(env: NodeJS.ProcessEnv, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  const text = set(env[name]);
  if (text === undefined) return out;
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) throw new TracingSettingsError(`${name}: an entry without a valid header name; expected key=value pairs separated by commas`);
    try {
      out[key.toLowerCase()] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new TracingSettingsError(`${name}: the value of "${key}" is not valid percent-encoding`);
    }
  }
  return out;
}

function compression(env: NodeJS.ProcessEnv): 'gzip' | 'none' {
  const name = set(env.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION) === undefined ? 'OTEL_EXPORTER_OTLP_COMPRESSION' : 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION';
  const given = set(env[name])?.toLowerCase() ?? 'none';
  if (given === 'gzip' || given === 'none') return given;
  throw new TracingSettingsError(`${name}: got "${given}"; expected gzip or none`);
}

/**
 * Replica identity from the downward-API variables the operator sets (POD_NAME, POD_NAMESPACE,
 * POD_UID, NODE_NAME) and the zone/region a deployment may add (CLOUD_AVAILABILITY_ZONE, CLOUD_REGION).
 */
export function replicaResource(env: NodeJS.ProcessEnv, instanceId: () => string = randomUUID): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, value: string | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  put('k8s.pod.name', set(env.POD_NAME));
  put('k8s.namespace.name', set(env.POD_NAMESPACE));
  put('k8s.pod.uid', set(env.POD_UID));
  put('k8s.node.name', set(env.NODE_NAME));
  put('cloud.availability_zone', set(env.CLOUD_AVAILABILITY_ZONE));
  put('cloud.region', set(env.CLOUD_REGION));
  out['service.instance.id'] = set(env.POD_UID) ?? instanceId();
  return out;
}

export function tracingSettings(config: RuntimeTracing | undefined, env: NodeJS.ProcessEnv, instanceId?: () => string): TracingSettings {
  return {
    tracesUrl: tracesUrl(config, env),
    protocol: protocol(config, env),
    serviceName: config?.serviceName ?? set(env.OTEL_SERVICE_NAME) ?? 'switchboard',
    defaultSampleRatio: envSampleRatio(env),
    resource: replicaResource(env, instanceId),
    headers: { ...envHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...envHeaders(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    compression: compression(env),
  };
}
