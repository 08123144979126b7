// OpenAI and OpenAI-compatible servers (vLLM, Ollama, Groq, …). baseUrl includes the version
// prefix, as the OpenAI SDK's baseURL does: https://api.openai.com/v1.
import type { ProviderKind } from '@switchboard/crds/runtime';
import { UnsupportedOperationError } from '../errors.js';
import { joinUrl, upstreamHeaders, withModel } from '../http.js';
import type { Operation, ProviderSpec } from '../types.js';

export const openaiPaths: Partial<Record<Operation, string>> = {
  chat: 'chat/completions',
  completions: 'completions',
  embeddings: 'embeddings',
};

export function openaiProvider(kind: Extract<ProviderKind, 'openai' | 'openai-compatible'>): ProviderSpec {
  return {
    kind,
    wire: 'openai',
    operations: new Set<Operation>(['chat', 'completions', 'embeddings']),
    prepare(op, body, deployment, apiKey) {
      const path = openaiPaths[op];
      if (!path) throw new UnsupportedOperationError(kind, op);
      return {
        url: joinUrl(deployment.baseUrl, path),
        method: 'POST',
        headers: upstreamHeaders(deployment, {}, apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        body: withModel(body, deployment.model),
      };
    },
  };
}

export const openai = openaiProvider('openai');
export const openaiCompatible = openaiProvider('openai-compatible');
