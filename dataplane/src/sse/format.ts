// Serialises server-sent events. Data holding line breaks becomes several `data:` lines, which a
// parser joins back with "\n".
import type { SseEvent } from '../providers/types.js';

const LINE_BREAK = /\r\n|\r|\n/;

export function formatSse(event: SseEvent): string {
  const head = event.event === undefined ? '' : `event: ${event.event}\n`;
  const { data } = event;
  if (data.indexOf('\n') === -1 && data.indexOf('\r') === -1) return `${head}data: ${data}\n\n`;
  return `${head}data: ${data.split(LINE_BREAK).join('\ndata: ')}\n\n`;
}

/** An OpenAI-style event carrying `value` as JSON. */
export function formatJsonData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** A named (Anthropic-style) event carrying `value` as JSON. */
export function formatNamedJson(event: string, value: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(value)}\n\n`;
}

/** The terminator of OpenAI streams. */
export const OPENAI_DONE = 'data: [DONE]\n\n';
