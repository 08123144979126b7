// The documents generated from the schemas, by output path (relative to the repo root).
import { RuntimeConfig } from './runtime-config.js';
import { renderReference } from './reference.js';
import { renderCrdReference } from './crd-docs.js';

export function generatedDocs(): Record<string, string> {
  return {
    'docs/config.md': renderReference(
      RuntimeConfig,
      'Runtime config reference',
      'The data plane\'s runtime config: read from a YAML or JSON file by `switchboard gateway --config FILE`, and rendered by the operator into the `<gateway>-runtime` ConfigMap. Durations take a unit (`250ms`, `30s`, `2m`). Credentials are references (`env`, `file`, or `secretKeyRef`), never values. See `deploy/examples/gateway.yaml` for a commented example. An invalid file at start makes the gateway exit non-zero naming the field, the value and what was expected; an invalid edit while running is rejected and the last good config keeps serving.',
    ),
    'docs/crds.md': renderCrdReference(),
  };
}
