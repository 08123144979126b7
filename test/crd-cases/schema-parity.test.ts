// The zod schemas (used by the operator and the docs) accept exactly the cases the apiserver
// accepts, and the cross-field rules written with withRules report the same message in both.
import { describe, expect, it } from '@jest/globals';
import { GatewayConfigSpec, RoutingModelSpec } from '@switchboard/crds';
import { loadCases } from './cases.js';

const schemas = { GatewayConfig: GatewayConfigSpec, RoutingModel: RoutingModelSpec };
const cases = loadCases();

describe('zod schemas agree with the CRD case table', () => {
  it('has at least 40 cases, valid and invalid, for both kinds', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const kind of ['GatewayConfig', 'RoutingModel'] as const) {
      expect(cases.filter((c) => c.kind === kind && c.error === undefined).length).toBeGreaterThanOrEqual(3);
      expect(cases.filter((c) => c.kind === kind && c.error !== undefined).length).toBeGreaterThanOrEqual(15);
    }
  });

  it.each(cases.map((c) => [`${c.kind}: ${c.name}`, c] as const))('%s', (_title, c) => {
    const result = schemas[c.kind].safeParse(c.spec);
    if (c.error === undefined) {
      expect(result.error?.issues ?? []).toEqual([]);
      return;
    }
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => i.message) ?? [];
    // An error that is a cross-field rule's message (not an OpenAPI one) comes out of zod verbatim.
    if (!/Required value|Unsupported value|unknown field|in body should|Duplicate value|exactly one of .* must be set|is (required|only allowed) with/.test(c.error) || /replicas or autoscaling|willingnessToPay or threshold/.test(c.error)) {
      expect(messages).toContain(c.error);
    }
  });
});
