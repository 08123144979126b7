// KEDA's external scaler gRPC API (operator/proto/externalscaler.proto, from the KEDA Go module),
// served by the operator so a ScaledObject's external-push trigger scales a gateway on its own
// load without Prometheus. Trigger metadata (rendered by controllers/scaled-object.ts):
//   gateway    GatewayConfig name (required); namespace: its namespace (default: the ScaledObject's)
//   metric     tokens-per-second | in-flight;  target: the per-replica target (a positive number)
// GetMetrics returns the sum over the gateway's pods; KEDA's HPA divides by the replica count and
// compares with the target. IsActive: any request in flight or any token flowing.
// StreamIsActive pushes the activity on every change (and once at the start), checked every
// pushIntervalMs, so KEDA wakes a gateway scaled to its minimum without waiting for a poll.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { errorMessage, type Logger } from '../runtime/index.js';
import type { GatewayLoad } from './load.js';

export const PROTO_PATH = fileURLToPath(new URL('../../proto/externalscaler.proto', import.meta.url));

export const METRICS = ['tokens-per-second', 'in-flight'] as const;
export type Metric = (typeof METRICS)[number];

export interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

export interface ScalerTarget {
  namespace: string;
  gateway: string;
  metric: Metric;
  target: number;
}

export class InvalidMetadataError extends Error {
  override name = 'InvalidMetadataError';
}

export function parseRef(ref: ScaledObjectRef | undefined): ScalerTarget {
  const md = ref?.scalerMetadata ?? {};
  const gateway = md.gateway ?? '';
  if (!gateway) throw new InvalidMetadataError('trigger metadata "gateway" (the GatewayConfig name) is required');
  const namespace = md.namespace || ref?.namespace || '';
  if (!namespace) throw new InvalidMetadataError('trigger metadata "namespace" is required when the ScaledObject reference has none');
  const metric = (md.metric ?? 'in-flight') as Metric;
  if (!METRICS.includes(metric)) throw new InvalidMetadataError(`trigger metadata "metric" must be one of ${METRICS.join(', ')}, got "${metric}"`);
  const target = Number(md.target ?? '');
  if (!(target > 0) || !Number.isFinite(target)) throw new InvalidMetadataError(`trigger metadata "target" must be a positive number, got "${md.target ?? ''}"`);
  return { namespace, gateway, metric, target };
}

export const metricValue = (load: GatewayLoad, metric: Metric): number => (metric === 'tokens-per-second' ? load.tokensPerSecond : load.inflight);
export const isActive = (load: GatewayLoad): boolean => load.inflight > 0 || load.tokensPerSecond > 0;

export interface ExternalScalerOptions {
  /** Load of a gateway's data plane (LoadTracker.load). */
  load: (namespace: string, gateway: string) => Promise<GatewayLoad>;
  host?: string;
  /** 0 = any free port. */
  port: number;
  /** StreamIsActive checks activity this often. Default 5 s. */
  pushIntervalMs?: number;
  logger?: Logger;
}

export interface ExternalScaler {
  port: number;
  stop(): Promise<void>;
}

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

function serviceError(err: unknown): Partial<grpc.ServiceError> & { code: grpc.status; details: string; message: string } {
  const code = err instanceof InvalidMetadataError ? grpc.status.INVALID_ARGUMENT : grpc.status.UNAVAILABLE;
  const message = errorMessage(err);
  return { code, details: message, message };
}

export function loadScalerService(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } };
  return pkg.externalscaler.ExternalScaler.service;
}

/** Client constructor for the same service (tests, debugging). */
export function scalerClientConstructor(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: true });
  return (grpc.loadPackageDefinition(def) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } }).externalscaler.ExternalScaler;
}

export async function startExternalScaler(options: ExternalScalerOptions): Promise<ExternalScaler> {
  const { logger } = options;
  const pushIntervalMs = options.pushIntervalMs ?? 5_000;
  const streams = new Set<() => void>();
  const server = new grpc.Server();
  const unary =
    <Req, Res>(name: string, handler: (req: Req) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: Callback<Res>): void => {
      handler(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          logger?.warn({ rpc: name, err: errorMessage(err) }, 'external scaler call failed');
          callback(serviceError(err) as grpc.ServiceError);
        },
      );
    };

  server.addService(loadScalerService(), {
    IsActive: unary<ScaledObjectRef, { result: boolean }>('IsActive', async (ref) => {
      const t = parseRef(ref);
      return { result: isActive(await options.load(t.namespace, t.gateway)) };
    }),
    GetMetricSpec: unary<ScaledObjectRef, { metricSpecs: unknown[] }>('GetMetricSpec', async (ref) => {
      const t = parseRef(ref);
      return { metricSpecs: [{ metricName: t.metric, targetSize: Math.ceil(t.target), targetSizeFloat: t.target }] };
    }),
    GetMetrics: unary<{ scaledObjectRef?: ScaledObjectRef; metricName: string }, { metricValues: unknown[] }>('GetMetrics', async (req) => {
      const t = parseRef(req.scaledObjectRef);
      const value = metricValue(await options.load(t.namespace, t.gateway), t.metric);
      return { metricValues: [{ metricName: req.metricName || t.metric, metricValue: Math.round(value), metricValueFloat: value }] };
    }),
    StreamIsActive: (call: grpc.ServerWritableStream<ScaledObjectRef, { result: boolean }>): void => {
      let t: ScalerTarget;
      try {
        t = parseRef(call.request);
      } catch (err) {
        call.destroy(Object.assign(new Error(errorMessage(err)), serviceError(err)));
        return;
      }
      let last: boolean | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let closed = false;
      const close = (): void => {
        closed = true;
        if (timer) clearTimeout(timer);
      };
      const tick = async (): Promise<void> => {
        try {
          const active = isActive(await options.load(t.namespace, t.gateway));
          if (!closed && active !== last) {
            last = active;
            call.write({ result: active });
          }
        } catch (err) {
          logger?.warn({ rpc: 'StreamIsActive', err: errorMessage(err) }, 'external scaler load failed');
        }
        if (!closed) timer = setTimeout(() => void tick(), pushIntervalMs);
      };
      streams.add(() => {
        close();
        call.end();
      });
      call.on('cancelled', close);
      call.on('close', close);
      call.on('finish', close);
      void tick();
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host ?? '0.0.0.0'}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  logger?.info({ port }, 'KEDA external scaler listening');
  return {
    port,
    stop: async () => {
      for (const end of [...streams]) end();
      streams.clear();
      server.forceShutdown();
    },
  };
}
