// Conformance of the operator's KEDA external scaler (operator/src/scaler) with a real gRPC client
// built from the same externalscaler.proto (KEDA's, from github.com/kedacore/keda/v2), over a real
// TCP connection, against a known synthetic load: two data-plane "pods" are HTTP servers exposing the
// data plane's own metrics registry (dataplane/src/telemetry/metrics.ts) with counters and gauges set
// by the test; the scrape clock is the test's, so the expected tokens/s are exact.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatewayMetrics } from '../../dataplane/src/telemetry/metrics.js';
import { LoadTracker, scalerClientConstructor, startExternalScaler, type ExternalScaler, type ScrapeTarget } from '../../operator/src/scaler/index.js';

const TIMEOUT = 30_000;
/** KEDA's generated Go client in a tiny program (test/keda/go-client, scripts/keda/build-client.sh). */
const KEDA_CLIENT = path.join(process.env.SWITCHBOARD_CACHE ?? path.join(os.homedir(), '.cache', 'switchboard'), 'keda', 'kedaclient');

function goClient(port: number, op: string, metadata: Record<string, string>, extra: string[] = []): Promise<{ code: number; out: unknown }> {
  return new Promise((resolve, reject) =>
    execFile(KEDA_CLIENT, ['-addr', `127.0.0.1:${port}`, '-op', op, '-metadata', JSON.stringify(metadata), ...extra], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      if (code !== 0 && code !== 3) return reject(new Error(`kedaclient ${op} exited ${code}: ${stderr}`));
      resolve({ code, out: JSON.parse(stdout) });
    }),
  );
}

interface Ref {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}
type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
interface ScalerClient extends grpc.Client {
  IsActive: Unary<Ref, { result: boolean }>;
  GetMetricSpec: Unary<Ref, { metricSpecs: Array<{ metricName: string; targetSize: number; targetSizeFloat: number }> }>;
  GetMetrics: Unary<{ scaledObjectRef: Ref; metricName: string }, { metricValues: Array<{ metricName: string; metricValue: number; metricValueFloat: number }> }>;
  StreamIsActive(req: Ref): grpc.ClientReadableStream<{ result: boolean }>;
}

const call = <Req, Res>(fn: Unary<Req, Res>, client: ScalerClient, req: Req): Promise<Res> =>
  new Promise((resolve, reject) => fn.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));

async function metricsServer(metrics: GatewayMetrics): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    void metrics.registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/metrics`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('KEDA external scaler over gRPC (externalscaler.proto from github.com/kedacore/keda/v2)', () => {
  const pods = [new GatewayMetrics(), new GatewayMetrics()];
  const servers: Array<{ url: string; close: () => Promise<void> }> = [];
  let now = 1_000_000;
  let scaler: ExternalScaler;
  let client: ScalerClient;
  const lists: string[] = [];
  const ref = (metric: string, target: string): Ref => ({ name: 'edge-gateway', namespace: 'prod', scalerMetadata: { scalerAddress: 'x', gateway: 'edge', namespace: 'prod', metric, target } });

  beforeAll(async () => {
    for (const p of pods) servers.push(await metricsServer(p));
    const targets = async (namespace: string, gateway: string): Promise<ScrapeTarget[]> => {
      lists.push(`${namespace}/${gateway}`);
      return servers.map((s, i) => ({ pod: `edge-gateway-${i}`, url: s.url }));
    };
    const tracker = new LoadTracker({ targets, clock: { now: () => now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) } });
    scaler = await startExternalScaler({ load: (ns, gw) => tracker.load(ns, gw), host: '127.0.0.1', port: 0, pushIntervalMs: 50 });
    const Client = scalerClientConstructor();
    client = new Client(`127.0.0.1:${scaler.port}`, grpc.credentials.createInsecure()) as unknown as ScalerClient;
  }, TIMEOUT);

  afterAll(async () => {
    client?.close();
    await scaler?.stop();
    for (const s of servers) await s.close();
  });

  it('GetMetricSpec returns the trigger target for the named metric', async () => {
    const spec = await call(client.GetMetricSpec, client, ref('tokens-per-second', '1500'));
    expect(spec.metricSpecs).toEqual([{ metricName: 'tokens-per-second', targetSize: 1500, targetSizeFloat: 1500 }]);
    const inflight = await call(client.GetMetricSpec, client, ref('in-flight', '32'));
    expect(inflight.metricSpecs).toEqual([{ metricName: 'in-flight', targetSize: 32, targetSizeFloat: 32 }]);
  }, TIMEOUT);

  it('idle gateway: IsActive false, both metrics 0', async () => {
    expect(await call(client.IsActive, client, ref('in-flight', '10'))).toEqual({ result: false });
    const m = await call(client.GetMetrics, client, { scaledObjectRef: ref('in-flight', '10'), metricName: 's1-in-flight' });
    expect(m.metricValues).toEqual([{ metricName: 's1-in-flight', metricValue: 0, metricValueFloat: 0 }]);
    expect(lists.every((l) => l === 'prod/edge')).toBe(true);
  }, TIMEOUT);

  it('known load: 8,000 output tokens over 2 s on two pods = 4,000 tokens/s; in-flight summed; input tokens ignored', async () => {
    now += 10_000;
    await call(client.GetMetrics, client, { scaledObjectRef: ref('tokens-per-second', '1000'), metricName: 's0-tokens-per-second' });
    pods[0]!.tokens.inc({ model: 'fast', direction: 'output' }, 6_000);
    pods[1]!.tokens.inc({ model: 'fast', direction: 'output' }, 1_500);
    pods[1]!.tokens.inc({ model: 'smart', direction: 'output' }, 500);
    pods[0]!.tokens.inc({ model: 'fast', direction: 'input' }, 99_999);
    pods[0]!.inFlight.set(3);
    pods[1]!.inFlight.set(5);
    now += 2_000;
    const tps = await call(client.GetMetrics, client, { scaledObjectRef: ref('tokens-per-second', '1000'), metricName: 's0-tokens-per-second' });
    expect(tps.metricValues).toEqual([{ metricName: 's0-tokens-per-second', metricValue: 4000, metricValueFloat: 4000 }]);
    const inflight = await call(client.GetMetrics, client, { scaledObjectRef: ref('in-flight', '4'), metricName: 's1-in-flight' });
    expect(inflight.metricValues).toEqual([{ metricName: 's1-in-flight', metricValue: 8, metricValueFloat: 8 }]);
    expect(await call(client.IsActive, client, ref('in-flight', '4'))).toEqual({ result: true });
  }, TIMEOUT);

  it("KEDA's own generated Go client reads the same values (GetMetricSpec, GetMetrics, IsActive, StreamIsActive, errors)", async () => {
    if (!existsSync(KEDA_CLIENT)) throw new Error(`${KEDA_CLIENT} is missing: run scripts/keda/build-client.sh`);
    const md = (metric: string, target: string): Record<string, string> => ref(metric, target).scalerMetadata;
    expect((await goClient(scaler.port, 'GetMetricSpec', md('tokens-per-second', '1500'))).out).toEqual({ metricSpecs: [{ metricName: 'tokens-per-second', targetSize: 1500, targetSizeFloat: 1500 }] });
    expect((await goClient(scaler.port, 'GetMetrics', md('tokens-per-second', '1000'), ['-metric', 's0-tokens-per-second'])).out).toEqual({
      metricValues: [{ metricName: 's0-tokens-per-second', metricValue: 4000, metricValueFloat: 4000 }],
    });
    expect((await goClient(scaler.port, 'GetMetrics', md('in-flight', '4'), ['-metric', 's1-in-flight'])).out).toEqual({ metricValues: [{ metricName: 's1-in-flight', metricValue: 8, metricValueFloat: 8 }] });
    expect((await goClient(scaler.port, 'IsActive', md('in-flight', '4'))).out).toEqual({ result: true });
    expect((await goClient(scaler.port, 'StreamIsActive', md('in-flight', '4'), ['-messages', '1'])).out).toEqual({ results: [true] });
    const bad = await goClient(scaler.port, 'GetMetrics', { gateway: 'edge', metric: 'in-flight', target: '0' }, ['-metric', 'x']);
    expect(bad.code).toBe(3);
    expect(bad.out).toMatchObject({ code: 'InvalidArgument' });
  }, TIMEOUT);

  it('StreamIsActive pushes the current activity, then each change', async () => {
    const stream = client.StreamIsActive(ref('in-flight', '4'));
    const seen: boolean[] = [];
    const waitLen = (n: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`saw ${JSON.stringify(seen)}, wanted ${n} messages`)), 10_000);
        const check = (): void => {
          if (seen.length >= n) {
            clearTimeout(deadline);
            resolve();
          } else setTimeout(check, 10);
        };
        check();
      });
    stream.on('data', (m: { result: boolean }) => seen.push(m.result));
    stream.on('error', () => undefined);
    await waitLen(1);
    expect(seen).toEqual([true]);
    // Load drains: nothing in flight, no new tokens over the next window.
    pods[0]!.inFlight.set(0);
    pods[1]!.inFlight.set(0);
    now += 5_000;
    await waitLen(2);
    expect(seen).toEqual([true, false]);
    pods[1]!.inFlight.set(1);
    await waitLen(3);
    expect(seen).toEqual([true, false, true]);
    stream.cancel();
  }, TIMEOUT);

  it('bad trigger metadata is INVALID_ARGUMENT naming the field', async () => {
    const err = await call(client.GetMetricSpec, client, { name: 'x', namespace: 'prod', scalerMetadata: { metric: 'cpu', gateway: 'edge', target: '1' } }).catch((e: grpc.ServiceError) => e);
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect((err as grpc.ServiceError).details).toContain('"metric"');
    const noGateway = await call(client.IsActive, client, { name: 'x', namespace: 'prod', scalerMetadata: {} }).catch((e: grpc.ServiceError) => e);
    expect(noGateway).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  }, TIMEOUT);
});
