import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type JSONSchemaProps, openApiSchema, toStructural, withRules } from './crd.js';
import { GatewayConfigSpec, gatewayConfigCrd } from './gateway-config.js';
import { generatedCrds } from './manifests.js';
import { routingModelCrd } from './routing-model.js';

/** Every schema node with its path. */
function nodes(schema: JSONSchemaProps, path: string): Array<[string, JSONSchemaProps]> {
  return [
    [path, schema],
    ...Object.entries(schema.properties ?? {}).flatMap(([k, v]) => nodes(v, `${path}.${k}`)),
    ...(schema.items ? nodes(schema.items, `${path}[]`) : []),
    ...(schema.additionalProperties ? nodes(schema.additionalProperties, `${path}{}`) : []),
  ];
}

const crds = { GatewayConfig: gatewayConfigCrd, RoutingModel: routingModelCrd };
const specAndStatus = Object.entries(crds).flatMap(([kind, crd]) => {
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!;
  return [...nodes(root.spec!, `${kind}.spec`), ...nodes(root.status!, `${kind}.status`)];
});

describe('generated CRDs', () => {
  it.each(Object.entries(generatedCrds()))('%s is up to date with the schema (run `npm run crds`)', (path, text) => {
    expect(readFileSync(join(import.meta.dirname, '..', '..', path), 'utf8')).toBe(text);
  });

  it('documents every field, so kubectl explain teaches the API', () => {
    const undocumented = specAndStatus.filter(([path, s]) => !path.endsWith('[]') && !path.endsWith('{}') && !s.description).map(([p]) => p);
    expect(undocumented).toEqual([]);
  });

  it('bounds every list and every string a CEL rule can reach', () => {
    expect(specAndStatus.filter(([, s]) => s.type === 'array' && s.maxItems === undefined).map(([p]) => p)).toEqual([]);
    const unboundedNames = specAndStatus.filter(([p, s]) => /\.name$/.test(p) && s.type === 'string' && s.maxLength === undefined);
    expect(unboundedNames).toEqual([]);
  });

  it('emits only structural keywords', () => {
    const text = JSON.stringify(crds);
    for (const keyword of ['"$schema"', '"const"', '"oneOf"', '"additionalProperties":false', '"propertyNames"']) expect(text).not.toContain(keyword);
    expect(specAndStatus.filter(([, s]) => s.anyOf && !s['x-kubernetes-int-or-string'])).toEqual([]);
  });

  it('names, scopes and prints both kinds', () => {
    expect(gatewayConfigCrd.metadata.name).toBe('gatewayconfigs.switchboard.dev');
    expect(gatewayConfigCrd.spec.names).toMatchObject({ kind: 'GatewayConfig', shortNames: ['gwc'], categories: ['switchboard'] });
    expect(routingModelCrd.spec.names).toMatchObject({ kind: 'RoutingModel', shortNames: ['rm'], categories: ['switchboard'] });
    for (const crd of Object.values(crds)) {
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', subresources: { status: {} } });
    }
    expect(routingModelCrd.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name)).toEqual(expect.arrayContaining(['Kind', 'Mode', 'Age']));
  });
});

describe('toStructural', () => {
  it('merges a union of objects and enforces exactly one alternative in CEL', () => {
    const schema = openApiSchema(
      z.union([z.strictObject({ inline: z.string() }), z.strictObject({ uri: z.string(), sha256: z.string() })]).describe('artifact'),
    );
    expect(schema).toMatchObject({ type: 'object', description: 'artifact', properties: { inline: { type: 'string' }, uri: {}, sha256: {} } });
    expect(schema.required).toBeUndefined();
    expect(schema['x-kubernetes-validations']).toEqual([
      { rule: '[has(self.inline), has(self.uri)].exists_one(x, x)', message: 'exactly one of inline or uri must be set' },
      { rule: '!has(self.uri) || has(self.sha256)', message: 'sha256 is required with uri', fieldPath: '.sha256' },
      { rule: '!has(self.sha256) || has(self.uri)', message: 'sha256 is only allowed with uri', fieldPath: '.sha256' },
    ]);
  });

  it('turns an integer-or-string union into x-kubernetes-int-or-string', () => {
    const schema = openApiSchema(z.union([z.number().int().min(0), z.string().regex(/^\d+%$/)]).describe('count or percent'));
    expect(schema).toEqual({ description: 'count or percent', 'x-kubernetes-int-or-string': true, minimum: 0, pattern: '^\\d+%$' });
  });

  it('rewrites draft 2020-12 bounds and drops unbounded integer limits', () => {
    expect(openApiSchema(z.number().positive())).toEqual({ type: 'number', minimum: 0, exclusiveMinimum: true });
    expect(openApiSchema(z.number().int())).toEqual({ type: 'integer', format: 'int64' });
    expect(openApiSchema(z.number().int().min(1).max(10))).toEqual({ type: 'integer', format: 'int32', minimum: 1, maximum: 10 });
    expect(openApiSchema(z.literal('x'))).toEqual({ type: 'string', enum: ['x'] });
  });

  it('refuses unions that have no structural form', () => {
    expect(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'boolean' }] }, 'spec.x')).toThrow('spec.x: unions other than objects or int-or-string');
  });
});

describe('withRules', () => {
  const Range = withRules(z.strictObject({ min: z.number(), max: z.number() }).describe('a range'), [
    { rule: 'self.min <= self.max', message: 'min must not exceed max', path: ['min'], holds: (r) => r.min <= r.max },
  ]);

  it('puts the rule into the CRD schema with its field path, keeping the description', () => {
    expect(openApiSchema(Range)).toMatchObject({
      description: 'a range',
      'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'min must not exceed max', fieldPath: '.min' }],
    });
  });

  it('reports the same message from zod at the same path', () => {
    const result = Range.safeParse({ min: 2, max: 1 });
    expect(result.error?.issues).toMatchObject([{ message: 'min must not exceed max', path: ['min'] }]);
  });

  it('lets the GatewayConfig schema fill the defaults the apiserver fills', () => {
    const spec = GatewayConfigSpec.parse({ models: [{ name: 'fast', deployments: [{ name: 'd1', provider: 'openai', model: 'm', baseUrl: 'http://x' }] }] });
    expect(spec.workload).toEqual({ replicas: 2 });
    expect(spec.routing.strategy).toBe('weighted');
  });
});
