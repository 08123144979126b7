// What an upstream span reads from an answer without decoding it: the model that answered and
// the finish reasons (OpenAI finish_reason, Anthropic stop_reason). Works on a whole JSON body
// and on SSE chunks alike, so a stream is observed chunk by chunk with no parsing of its events.

// Scanned by hand, not with regular expressions: this runs on every traced answer and stream
// chunk, and a scan allocates nothing but the values it returns.

/**
 * The string value that follows a JSON key ending at `at` (just past its closing quote): optional
 * whitespace, a colon, whitespace, then a quoted value of 1..`max` characters that `allowed` accepts.
 */
function quotedValueAfter(text: string, at: number, max: number, allowed: (code: number) => boolean): string | undefined {
  let i = at;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x3a) return undefined;
  i++;
  while (isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 0x22) return undefined;
  const start = ++i;
  const limit = Math.min(text.length, start + max);
  while (i < limit && text.charCodeAt(i) !== 0x22 && allowed(text.charCodeAt(i))) i++;
  return i > start && text.charCodeAt(i) === 0x22 ? text.slice(start, i) : undefined;
}

/** JSON whitespace: space, line feed, carriage return, tab. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Any character but a backslash (the scan stops at the closing quote; a value with an escape is not read). */
function plain(code: number): boolean {
  return code !== 0x5c;
}

/** A finish reason's characters: letters, digits, _ . - */
function reasonChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2e || code === 0x2d;
}

/** The first "model" field of an answer (the response model), if any. */
export function responseModel(text: string): string | undefined {
  for (let at = text.indexOf('"model"'); at !== -1; at = text.indexOf('"model"', at + 7)) {
    const model = quotedValueAfter(text, at + 7, 200, plain);
    if (model !== undefined) return model;
  }
  return undefined;
}

/** Finish reasons (finish_reason, stop_reason) in a chunk or body, in order, added to `into` once each. */
export function collectFinishReasons(text: string, into: string[]): void {
  for (let at = text.indexOf('_reason"'); at !== -1; at = text.indexOf('_reason"', at + 8)) {
    const key = text.startsWith('"finish', at - 7) || text.startsWith('"stop', at - 5);
    const reason = key ? quotedValueAfter(text, at + 8, 64, reasonChar) : undefined;
    if (reason !== undefined && !into.includes(reason)) into.push(reason);
  }
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
