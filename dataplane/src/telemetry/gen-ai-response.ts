// What an upstream span reads from an answer without decoding it: the model that answered and
// the finish reasons (OpenAI finish_reason, Anthropic stop_reason). Works on a whole JSON body
// and on SSE chunks alike, so a stream is observed chunk by chunk with no parsing of its events.

const MODEL = /"model"\s*:\s*"([^"\\]{1,200})"/;
const FINISH = /"(?:finish_reason|stop_reason)"\s*:\s*"([A-Za-z0-9_.-]{1,64})"/g;

/** The first "model" field of an answer (the response model), if any. */
export function responseModel(text: string): string | undefined {
  return MODEL.exec(text)?.[1];
}

/** Finish reasons found in a chunk or body, added to `into` (a set keeps one per reason). */
export function collectFinishReasons(text: string, into: Set<string>): void {
  if (!text.includes('_reason"')) return;
  for (const match of text.matchAll(FINISH)) into.add(match[1]!);
}

/** gen_ai.operation.name for a gateway operation. */
export function genAiOperation(op: 'chat' | 'completions' | 'embeddings' | 'messages'): string {
  return op === 'completions' ? 'text_completion' : op === 'embeddings' ? 'embeddings' : 'chat';
}

/** gen_ai.provider.name: the well-known value for a provider kind (its wire family for openai-compatible). */
export function genAiProvider(kind: 'openai' | 'openai-compatible' | 'azure' | 'anthropic'): string {
  return kind === 'azure' ? 'azure.ai.openai' : kind === 'anthropic' ? 'anthropic' : 'openai';
}

/** Text of an answer's content: OpenAI choices[].message.content / text, Anthropic content[].text. */
export function answerText(body: string): string {
  let parsed: { choices?: { message?: { content?: unknown }; text?: unknown }[]; content?: { text?: unknown }[] };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return '';
  }
  const parts: unknown[] = [...(parsed.choices ?? []).map((c) => c.message?.content ?? c.text), ...(Array.isArray(parsed.content) ? parsed.content.map((c) => c.text) : [])];
  return parts.filter((p): p is string => typeof p === 'string').join('');
}

/** Text carried by the SSE events of a chunk: OpenAI delta.content / text, Anthropic delta.text. */
export function streamedText(chunk: string): string {
  let out = '';
  for (const line of chunk.split('\n')) {
    if (!line.startsWith('data:') || !line.includes('{')) continue;
    try {
      const event = JSON.parse(line.slice(5)) as { choices?: { delta?: { content?: unknown }; text?: unknown }[]; delta?: { text?: unknown } };
      for (const c of event.choices ?? []) {
        const text = c.delta?.content ?? c.text;
        if (typeof text === 'string') out += text;
      }
      if (typeof event.delta?.text === 'string') out += event.delta.text;
    } catch {
      // an event split across chunks: its text is not recorded
    }
  }
  return out;
}

/** gen_ai.output.messages: one assistant message with the answer's text. */
export function outputMessages(text: string, finishReasons: Iterable<string>): string {
  const [finish] = finishReasons;
  return JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], ...(finish === undefined ? {} : { finish_reason: finish }) }]);
}
