import { describe, expect, it } from '@jest/globals';
import { SseEventTooLargeError, SseParser } from './parser.js';
import { formatSse } from './format.js';
import type { SseEvent } from '../providers/types.js';

const sample = [
  ': keep-alive comment',
  'event: message_start',
  'data: {"type":"message_start","text":"héllo ✓ 🚀"}',
  '',
  'data: line one',
  'data: line two',
  '',
  'event: ping',
  'data:{"type":"ping"}',
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

const expected: SseEvent[] = [
  { event: 'message_start', data: '{"type":"message_start","text":"héllo ✓ 🚀"}' },
  { data: 'line one\nline two' },
  { event: 'ping', data: '{"type":"ping"}' },
  { data: '[DONE]' },
];

function parseChunks(chunks: (Buffer | string)[]): SseEvent[] {
  const parser = new SseParser();
  const events = chunks.flatMap((c) => parser.push(c));
  return [...events, ...parser.end()];
}

describe('SseParser', () => {
  it('parses events, multi-line data, event names and skips comments', () => {
    expect(parseChunks([sample])).toEqual(expected);
  });

  it('yields the same events whatever byte offset the stream is split at (UTF-8 included)', () => {
    const bytes = Buffer.from(sample, 'utf8');
    for (let i = 0; i <= bytes.length; i++) {
      expect(parseChunks([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(expected);
    }
  });

  it('yields the same events when fed one byte at a time', () => {
    const bytes = Buffer.from(sample, 'utf8');
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    expect(parseChunks(chunks)).toEqual(expected);
  });

  it('accepts CRLF and bare CR line endings, including CRLF split across chunks', () => {
    const crlf = sample.replace(/\n/g, '\r\n');
    expect(parseChunks([crlf])).toEqual(expected);
    expect(parseChunks([sample.replace(/\n/g, '\r')])).toEqual(expected);
    for (let i = 0; i <= crlf.length; i++) {
      expect(parseChunks([crlf.slice(0, i), crlf.slice(i)])).toEqual(expected);
    }
  });

  it('completes a final event that lacks its blank line when the stream ends', () => {
    expect(parseChunks(['data: {"a":1}\n\ndata: last'])).toEqual([{ data: '{"a":1}' }, { data: 'last' }]);
  });

  it('ignores events without data and unknown fields', () => {
    expect(parseChunks(['event: empty\n\nid: 7\nretry: 10\ndata: x\n\n'])).toEqual([{ data: 'x' }]);
  });

  it('throws when one event grows above the cap, whether in one line or many', () => {
    const small = new SseParser(100);
    expect(() => small.push(`data: ${'x'.repeat(200)}\n`)).toThrow(SseEventTooLargeError);
    const lines = new SseParser(100);
    expect(() => {
      for (let i = 0; i < 20; i++) lines.push('data: 0123456789\n');
    }).toThrow(SseEventTooLargeError);
    const unterminated = new SseParser(100);
    expect(() => {
      for (let i = 0; i < 20; i++) unterminated.push('0123456789');
    }).toThrow(SseEventTooLargeError);
  });

  it('keeps memory bounded by the cap, not the stream: many events under the cap pass', () => {
    const parser = new SseParser(100);
    let count = 0;
    for (let i = 0; i < 10_000; i++) count += parser.push(`data: ${'y'.repeat(80)}\n\n`).length;
    expect(count).toBe(10_000);
  });

  it('round-trips through formatSse, splitting data with line breaks into data lines', () => {
    const events: SseEvent[] = [{ event: 'a', data: 'one\ntwo' }, { data: '{"x":1}' }, { data: '' }];
    const text = events.map(formatSse).join('');
    expect(text).toBe('event: a\ndata: one\ndata: two\n\ndata: {"x":1}\n\ndata: \n\n');
    expect(parseChunks([text])).toEqual(events);
  });
});
