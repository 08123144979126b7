// Hot reload end to end, as it runs in a cluster (the rig in ./rig.ts): a real kube-apiserver with
// the CRDs, the operator as a real process, two real data-plane processes (`switchboard gateway
// --configmap`, each naming a Pod object the rig creates, since no kubelet runs) and the mock
// upstream. Under open-loop load (240 rps, a quarter streamed) the test applies GatewayConfig
// changes with kubectl and checks that every request succeeds on a deployment the config it
// reports allows, that both data planes serve each change (within a generous 10 s; the apply ->
// serving latency target lives in bench/hot-reload), that ConfigApplied waits for both replicas
// and names the one that lags, that a change naming a missing Secret shows on the status and
// changes nothing, and that an apiserver restart interrupts no request and leaves the watches
// working.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { condition, waitFor } from '../operator-e2e/operator-process.js';
import { describeLoad, readyz, waitServing } from './load.js';
import { describeChanges, HotReloadRig, NS, PODS, type GatewayProcess } from './rig.js';

const CHANGES = 20;
const RPS = 240;
const TIMEOUT = 120_000;

let rig: HotReloadRig;

function noProblemsSoFar(): void {
  const problems = rig.ledger.check(rig.load.outcomes);
  expect(problems.slice(0, 20)).toEqual([]);
}

beforeAll(async () => {
  rig = await HotReloadRig.start({ rps: RPS, maxLoadMs: 110_000, log: console.log });
}, TIMEOUT);

afterAll(() => rig?.stop(), TIMEOUT);

describe('GatewayConfig changes reach both data planes under load', () => {
  let applied = 0;

  it(`applies ${CHANGES} changes of weights, models and routing: every request succeeds on an allowed deployment, both data planes serve each`, async () => {
    const changes = await rig.timedChanges(1, CHANGES, 10_000, async ({ hash, status }) => {
      // True only with both pods on the hash (annotations never go back, so reading them after
      // the status is enough to catch a status that ran ahead of them).
      expect(condition(status, 'ConfigApplied')?.message).toBe(`2/2 ready replicas run config ${hash}`);
      expect(await Promise.all(PODS.map((pod) => rig.podHash(pod)))).toEqual([hash, hash]);
    });
    applied = CHANGES;
    console.log(`${describeChanges(changes)}\n${describeLoad(rig.load)}`);
    noProblemsSoFar();
  }, TIMEOUT);

  it('keeps ConfigApplied False (Rolling, naming the pod) while one replica lags, True once it catches up', async () => {
    const { load, ledger } = rig;
    const [fresh, paused] = rig.gateways as [GatewayProcess, GatewayProcess];
    const before = (await rig.gatewayConfig()).status!.configHash!;
    // Pause the second data plane: its pod stays Ready but cannot apply anything. It leaves the
    // load first (a paused process would only queue requests); the first takes the whole rate.
    load.setTargets([fresh]);
    await load.drained(paused.name);
    paused.cli.child.kill('SIGSTOP');
    try {
      const { hash } = await rig.applyChange(++applied);
      await waitServing(ledger, [fresh], hash, 5_000);
      const expected = { status: 'False', reason: 'Rolling', message: `1/2 ready replicas run config ${hash}; waiting for ${paused.pod} (on ${before})` };
      // First 0/2 (the status may be written before the fresh pod reports), then 1/2 naming the paused one.
      await waitFor('ConfigApplied Rolling, waiting for the paused pod only', async () => condition(await rig.gatewayConfig(), 'ConfigApplied')?.message === expected.message, 10_000, 20);
      for (let k = 0; k < 5; k++) {
        const g = await rig.gatewayConfig();
        expect(condition(g, 'ConfigApplied')).toMatchObject(expected);
        expect(g.status?.laggingReplicas).toEqual([{ pod: paused.pod, appliedHash: before }]);
        expect(await rig.podHash(paused.pod)).toBe(before);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await rig.podHash(fresh.pod)).toBe(hash);
      paused.cli.child.kill('SIGCONT');
      // Resumed, it applies the change it missed and reports it; only then is the config applied.
      await waitServing(ledger, [paused], hash, 10_000);
      const g = await rig.waitApplied(hash);
      expect(g.status?.laggingReplicas).toBeUndefined();
      expect(await rig.podHash(paused.pod)).toBe(hash);
    } finally {
      paused.cli.child.kill('SIGCONT');
      load.setTargets(rig.gateways);
    }
    noProblemsSoFar();
  }, TIMEOUT);

  it('a change naming a Secret that does not exist shows on the status and changes nothing in the data plane', async () => {
    const g0 = await rig.gatewayConfig();
    const serving = g0.status!.configHash!;
    await rig.apply(rig.change(applied + 1, 'no-such-secret').spec); // the CRD schema accepts it
    const blocked = await waitFor('SecretNotFound on the status', async () => {
      const g = await rig.gatewayConfig();
      return g.status?.observedGeneration === g0.metadata.generation + 1 && condition(g, 'ConfigApplied')?.reason === 'SecretNotFound' ? g : undefined;
    }, 10_000, 20);
    const missing = `Secret ${NS}/no-such-secret not found`;
    expect(condition(blocked, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(condition(blocked, 'ConfigApplied')?.message).toContain(missing);
    expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(condition(blocked, 'Degraded')).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
    expect(condition(blocked, 'Degraded')?.message).toContain(`still serving the last good config ${serving}`);
    expect(blocked.status?.configHash).toBe(serving);
    const since = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    const cm = await rig.runtimeConfigMap();
    expect(cm?.metadata.annotations?.['switchboard.dev/config-hash']).toBe(serving);
    expect(cm?.data['config.json']).not.toContain('no-such-secret');
    for (const g of rig.gateways) expect(await readyz(g.adminUrl)).toMatchObject({ ready: true, configHash: serving, lastConfigError: null });
    expect(await Promise.all(PODS.map((pod) => rig.podHash(pod)))).toEqual([serving, serving]);
    const during = rig.load.outcomes.filter((o) => o.start >= since);
    expect(during.length).toBeGreaterThan(200);
    expect(during.filter((o) => o.error !== undefined || o.hash !== serving).slice(0, 5)).toEqual([]);
    noProblemsSoFar();
  }, TIMEOUT);

  it('an apiserver restart fails no request; the data planes keep their config and apply the next change', async () => {
    const serving = (await rig.gatewayConfig()).status!.configHash!;
    const since = performance.now();
    await rig.cluster.restartApiserver();
    const outage = performance.now() - since;
    for (const g of rig.gateways) expect((await readyz(g.adminUrl)).configHash).toBe(serving);
    const during = rig.load.outcomes.filter((o) => o.start >= since && o.start <= since + outage);
    expect(during.length).toBeGreaterThan(outage / 1000 * 200 * 0.9);
    expect(during.filter((o) => o.error !== undefined || o.hash !== serving).slice(0, 5)).toEqual([]);

    // Watches resumed: a change applied after the restart reaches both data planes.
    const { toServing } = await rig.timedChange(++applied, 30_000);
    console.log(`apiserver restart: ${(outage / 1000).toFixed(1)} s, ${during.length} requests during it, none failed; first change after it served by both in ${toServing.toFixed(0)} ms`);
    expect(rig.operator.running()).toBe(true);
    noProblemsSoFar();
  }, TIMEOUT);

  it(`sustained >= ${RPS * 0.85} rps with no failed request and every answer on an allowed deployment`, async () => {
    const { load, ledger } = rig;
    await load.stop();
    console.log(describeLoad(load));
    expect(load.missed).toBe(0);
    expect(load.outcomes.length / load.durationSeconds()).toBeGreaterThanOrEqual(200);
    expect(load.outcomes.filter((o) => o.streamed).length).toBeGreaterThan(load.outcomes.length * 0.2);
    expect(ledger.check(load.outcomes).slice(0, 20)).toEqual([]);
    // Every config the test applied was served by someone, so the check above covered them all.
    const hashes = new Set(load.outcomes.map((o) => o.hash));
    expect(hashes.size).toBeGreaterThanOrEqual(CHANGES + 2);
  }, TIMEOUT);
});
