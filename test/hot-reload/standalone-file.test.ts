// Hot reload end to end in standalone mode (the rig in ./file-rig.ts): a real gateway process
// (`switchboard gateway --config FILE`) and the real mock upstream. Under open-loop load (240 rps,
// a quarter streamed) the test replaces the config file 20 times the way editors and volume
// updates do (write a temporary file, rename it over the config) and checks that every request
// succeeds on a deployment the config it reports allows, that the gateway serves each edit (within
// a generous 5 s; the edit -> serving latency target lives in bench/hot-reload), and that invalid
// edits (broken JSON, a schema violation, a credential that does not resolve) are rejected while
// the last good config keeps serving.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { metricValue } from '../support/stack.js';
import { describeEdits, StandaloneFileRig } from './file-rig.js';
import { describeLoad, readyz } from './load.js';

const EDITS = 20;
const RPS = 240;
const TIMEOUT = 120_000;

let rig: StandaloneFileRig;

const reloads = (result: string): Promise<number> => metricValue(rig.gateway.adminUrl, 'switchboard_config_reloads_total', { result });

beforeAll(async () => {
  rig = await StandaloneFileRig.start({ rps: RPS, maxLoadMs: 90_000 });
  expect(rig.gateway.startedOn).toBe(rig.edit(0).hash);
}, TIMEOUT);

afterAll(() => rig?.stop(), TIMEOUT);

describe('standalone file source under load', () => {
  let edits = 0;

  it(`applies ${EDITS} atomic file edits: every request succeeds on an allowed deployment, the gateway serves each`, async () => {
    const appliedBefore = await reloads('applied');
    const toServing = await rig.applyEdits(1, EDITS, 5_000);
    edits = EDITS;
    console.log(`${describeEdits(toServing)}\n${describeLoad(rig.load)}`);
    expect(await reloads('applied')).toBe(appliedBefore + EDITS);
    expect(rig.ledger.check(rig.load.outcomes).slice(0, 20)).toEqual([]);
  }, TIMEOUT);

  it.each([
    ['broken JSON', () => `${JSON.stringify(rig.edit(edits + 1).config).slice(0, -20)}\n`, /gateway\.json/],
    ['a schema violation (negative weight)', () => JSON.stringify({ ...rig.edit(edits + 1).config, models: [{ name: 'live', deployments: [{ ...rig.edit(edits + 1).config.models[0]!.deployments[0]!, weight: -1 }] }] }), /weight/],
    ['a credential that does not resolve (unset environment variable)', () => rig.edit(edits + 1, 'NOT_SET_ANYWHERE').config, /NOT_SET_ANYWHERE/],
  ] as const)('rejects an edit with %s and keeps serving the last good config', async (_what, invalid, mentions) => {
    const { gateway, load } = rig;
    const serving = (await readyz(gateway.adminUrl)).configHash;
    const rejectedBefore = await reloads('rejected');
    await rig.write(invalid());
    const since = performance.now();
    const r = await (async () => {
      const deadline = performance.now() + 5_000;
      for (;;) {
        const v = await readyz(gateway.adminUrl);
        if (v.lastConfigError) return v;
        if (performance.now() > deadline) throw new Error(`the gateway did not report the invalid edit: ${JSON.stringify(v)}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    expect(r).toMatchObject({ ready: true, configHash: serving });
    expect(r.lastConfigError).toMatch(mentions);
    expect(await reloads('rejected')).toBeGreaterThan(rejectedBefore);
    await new Promise((res) => setTimeout(res, 1000));
    expect((await readyz(gateway.adminUrl)).configHash).toBe(serving);
    const during = load.outcomes.filter((o) => o.start >= since);
    expect(during.length).toBeGreaterThan(150);
    expect(during.filter((o) => o.error !== undefined || o.hash !== serving).slice(0, 5)).toEqual([]);

    // The next valid edit applies and clears the error.
    await rig.applyEdit(++edits, 5_000);
    expect((await readyz(gateway.adminUrl)).lastConfigError).toBeNull();
  }, TIMEOUT);

  it(`sustained >= 200 rps with no failed request and every answer on an allowed deployment`, async () => {
    const { load, ledger } = rig;
    await load.stop();
    console.log(describeLoad(load));
    expect(load.missed).toBe(0);
    expect(load.outcomes.length / load.durationSeconds()).toBeGreaterThanOrEqual(200);
    expect(load.outcomes.filter((o) => o.streamed).length).toBeGreaterThan(load.outcomes.length * 0.2);
    expect(ledger.check(load.outcomes).slice(0, 20)).toEqual([]);
    expect(new Set(load.outcomes.map((o) => o.hash)).size).toBeGreaterThanOrEqual(EDITS + 4);
  }, TIMEOUT);
});
