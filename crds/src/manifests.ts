// The generated CustomResourceDefinition files, by output path (relative to the repo root).
import { renderCrdYaml } from './crd.js';
import { gatewayConfigCrd } from './gateway-config.js';
import { routingModelCrd } from './routing-model.js';

export function generatedCrds(): Record<string, string> {
  return {
    'crds/generated/switchboard.dev_gatewayconfigs.yaml': renderCrdYaml(gatewayConfigCrd, 'crds/src/gateway-config.ts'),
    'crds/generated/switchboard.dev_routingmodels.yaml': renderCrdYaml(routingModelCrd, 'crds/src/routing-model.ts'),
  };
}
