// Azure OpenAI: the deployment name is in the path, the API version in the query, the key in
// `api-key`. baseUrl is the resource endpoint (https://NAME.openai.azure.com), with or without
// a trailing /openai.
import { UnsupportedOperationError } from '../errors.js';
import { baseWithout, upstreamHeaders, withModel } from '../http.js';
import { openaiPaths } from '../openai/index.js';
import type { Operation, ProviderSpec } from '../types.js';

export const azure: ProviderSpec = {
  kind: 'azure',
  wire: 'openai',
  operations: new Set<Operation>(['chat', 'completions', 'embeddings']),
  prepare(op, body, deployment, apiKey) {
    const path = openaiPaths[op];
    if (!path) throw new UnsupportedOperationError('azure', op);
    // The config schema requires apiVersion for azure; this guards hand-built deployments.
    if (!deployment.apiVersion) throw new Error(`deployment ${deployment.name}: apiVersion is required for azure`);
    const base = baseWithout(deployment.baseUrl, 'openai');
    const url =
      `${base}/openai/deployments/${encodeURIComponent(deployment.model)}/${path}` +
      `?api-version=${encodeURIComponent(deployment.apiVersion)}`;
    return {
      url,
      method: 'POST',
      headers: upstreamHeaders(deployment, {}, apiKey ? { 'api-key': apiKey } : {}),
      body: withModel(body, deployment.model),
    };
  },
};
