import { describe, expect, it } from '@jest/globals';
import { replicaResource, tracingSettings, tracingWanted, TracingSettingsError } from './tracing-settings.js';

const id = (): string => 'random-id';

describe('tracingWanted', () => {
  it('is on with a config section or an OTLP endpoint in the environment, off otherwise', () => {
    expect(tracingWanted(undefined, {})).toBe(false);
    expect(tracingWanted({ recordContent: [] }, {})).toBe(true);
    expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
  });

  it('honours OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingWanted({ recordContent: [] }, { OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingWanted(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });
});

describe('tracingSettings', () => {
  it('takes the config first: endpoint + /v1/traces, protocol, service name', () => {
    const s = tracingSettings({ endpoint: 'http://collector:4318/', protocol: 'http/json', serviceName: 'edge', recordContent: [] }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318', OTEL_SERVICE_NAME: 'env' }, id);
    expect(s).toMatchObject({ tracesUrl: 'http://collector:4318/v1/traces', protocol: 'http/json', serviceName: 'edge', defaultSampleRatio: 1 });
  });

  it('falls back to the OTEL_* variables, then to defaults', () => {
    expect(tracingSettings(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/custom', OTEL_SERVICE_NAME: 'svc', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, id)).toMatchObject({
      tracesUrl: 'http://t:4318/custom',
      serviceName: 'svc',
      protocol: 'http/json',
    });
    expect(tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' }, id).tracesUrl).toBe('http://b:4318/v1/traces');
    expect(tracingSettings({ recordContent: [] }, {}, id)).toMatchObject({ tracesUrl: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf', serviceName: 'switchboard' });
  });

  it('reads the sampler variables as the ratio for new traces', () => {
    expect(tracingSettings(undefined, { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, id).defaultSampleRatio).toBe(0.25);
    expect(tracingSettings(undefined, { OTEL_TRACES_SAMPLER: 'always_off' }, id).defaultSampleRatio).toBe(0);
    expect(tracingSettings(undefined, { OTEL_TRACES_SAMPLER_ARG: '0.5' }, id).defaultSampleRatio).toBe(0.5);
  });

  it('rejects bad environment values, naming the variable', () => {
    expect(() => tracingSettings(undefined, { OTEL_TRACES_SAMPLER_ARG: '2' }, id)).toThrow(new TracingSettingsError('OTEL_TRACES_SAMPLER_ARG: got "2"; expected a number from 0 to 1'));
    expect(() => tracingSettings(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, id)).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL: got "grpc"; expected http\/protobuf or http\/json/);
    expect(() => tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, id)).toThrow(/tracing endpoint: got "collector:4318\/v1\/traces"; expected an http\(s\) URL/);
    expect(() => tracingSettings(undefined, { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, id)).toThrow(new TracingSettingsError('OTEL_EXPORTER_OTLP_COMPRESSION: got "zstd"; expected gzip or none'));
  });

  it('reads export headers (the traces variable over the general one) and compression', () => {
    const s = tracingSettings(undefined, { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant=a', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=b', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip' }, id);
    expect(s.headers).toEqual({ authorization: 'Bearer abc', 'x-tenant': 'b' });
    expect(s.compression).toBe('gzip');
    expect(tracingSettings(undefined, {}, id)).toMatchObject({ headers: {}, compression: 'none' });
  });

  it('rejects a malformed header list naming the variable, never the value', () => {
    const attempt = (): unknown => tracingSettings(undefined, { OTEL_EXPORTER_OTLP_HEADERS: 'secret-token-without-a-name' }, id);
    expect(attempt).toThrow(new TracingSettingsError('OTEL_EXPORTER_OTLP_HEADERS: an entry without a valid header name; expected key=value pairs separated by commas'));
    expect(() => tracingSettings(undefined, { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=%E0%A4%A' }, id)).toThrow(new TracingSettingsError('OTEL_EXPORTER_OTLP_TRACES_HEADERS: the value of "authorization" is not valid percent-encoding'));
  });
});

describe('replicaResource', () => {
  it('names the replica from the downward-API variables; the pod uid is the instance id', () => {
    expect(replicaResource({ POD_NAME: 'gw-1', POD_NAMESPACE: 'ai', POD_UID: 'u-1', NODE_NAME: 'n-1', CLOUD_AVAILABILITY_ZONE: 'z', CLOUD_REGION: 'r' }, id)).toEqual({
      'k8s.pod.name': 'gw-1',
      'k8s.namespace.name': 'ai',
      'k8s.pod.uid': 'u-1',
      'k8s.node.name': 'n-1',
      'cloud.availability_zone': 'z',
      'cloud.region': 'r',
      'service.instance.id': 'u-1',
    });
  });

  it('outside Kubernetes: only a random service.instance.id', () => {
    expect(replicaResource({}, id)).toEqual({ 'service.instance.id': 'random-id' });
  });
});
