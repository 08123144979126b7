// docs/crds.md: the reference of both custom resources, generated from the same zod schemas as
// the CRDs, with each kind's cross-field (CEL) rules listed after its fields.
import { type CustomResourceDefinition, validationRules } from './crd.js';
import { GatewayConfigSpec, gatewayConfigCrd } from './gateway-config.js';
import { renderReference } from './reference.js';
import { RoutingModelSpec, routingModelCrd } from './routing-model.js';
import type { z } from 'zod';

const INTRO = `Switchboard is configured with two custom resources in the \`switchboard.dev/v1alpha1\` API group.
A **GatewayConfig** (\`kubectl get gwc\`) describes one gateway: the operator renders it into the
\`<name>-runtime\` ConfigMap (see the [runtime config reference](config.md)) and runs the data plane
that serves it. A **RoutingModel** (\`kubectl get rm\`) is a learned or rule-based router that a
GatewayConfig references in \`spec.routing.routingModelRef\`. Both are listed by \`kubectl get switchboard\`.

The apiserver checks every object before it is stored: field types, formats and bounds from the
OpenAPI schema, and the cross-field rules below as CEL, so a bad spec is rejected by \`kubectl apply\`
with a message naming the field. Credentials are always Secret key references; client keys are
stored as SHA-256 hashes. \`kubectl explain gatewayconfig.spec\` shows the same field docs as this page.
The CRD manifests are in \`crds/generated/\` and are installed by the Helm chart.`;

function section(kind: string, schema: z.ZodType, crd: CustomResourceDefinition): string {
  const body = renderReference(schema, `${kind} spec`, '')
    .split('\n')
    .filter((line) => !line.startsWith('<!--'))
    .map((line) => (line.startsWith('# ') ? `#${line}` : line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
  const rules = validationRules(spec, 'spec').map((r) => `| \`${r.path}\` | ${r.message.replace(/\|/g, '\\|')} | \`${r.rule.replace(/\|/g, '\\|')}\` |`);
  return [body.trimEnd(), '', `### ${kind} cross-field rules`, '', '| on | message | CEL |', '|---|---|---|', ...rules, ''].join('\n');
}

export function renderCrdReference(): string {
  return [
    '# Custom resource reference',
    '',
    INTRO,
    '',
    '<!-- Generated from the zod schemas by `npm run docs`; a test fails when this file is stale. -->',
    '',
    section('GatewayConfig', GatewayConfigSpec, gatewayConfigCrd),
    section('RoutingModel', RoutingModelSpec, routingModelCrd),
  ].join('\n');
}
