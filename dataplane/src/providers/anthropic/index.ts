// Anthropic messages API. baseUrl excludes the version prefix, as the Anthropic SDK's baseURL
// does (https://api.anthropic.com); a trailing /v1 is tolerated.
import { UnsupportedOperationError } from '../errors.js';
import { baseWithout, upstreamHeaders, withModel } from '../http.js';
import type { Operation, ProviderSpec } from '../types.js';

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropic: ProviderSpec = {
  kind: 'anthropic',
  wire: 'anthropic',
  operations: new Set<Operation>(['messages']),
  prepare(op, body, deployment, apiKey) {
    if (op !== 'messages') throw new UnsupportedOperationError('anthropic', op);
    return {
      url: `${baseWithout(deployment.baseUrl, 'v1')}/v1/messages`,
      method: 'POST',
      // Static headers may override anthropic-version or add anthropic-beta.
      headers: upstreamHeaders(deployment, { 'anthropic-version': ANTHROPIC_VERSION }, apiKey ? { 'x-api-key': apiKey } : {}),
      body: withModel(body, deployment.model),
    };
  },
};
