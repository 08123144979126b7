// Incremental server-sent-events parser (WHATWG "event stream" rules, minus id/retry which no
// LLM API relies on). On the hot path of every stream: it scans each chunk once, keeps at most
// one partial line and one partial event, and refuses events above a size cap.
import { StringDecoder } from 'node:string_decoder';
import type { SseEvent } from '../providers/types.js';

/** Default cap on one event (data lines plus the line being read), in UTF-16 code units. */
export const DEFAULT_MAX_EVENT_SIZE = 1024 * 1024;

export class SseEventTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`server-sent event larger than ${limit} characters`);
    this.name = 'SseEventTooLargeError';
  }
}

const LF = 10;
const CR = 13;

export class SseParser {
  // StringDecoder keeps multi-byte UTF-8 sequences split across chunks intact.
  private readonly decoder = new StringDecoder('utf8');
  /** Pieces of a line that has not ended yet (joined once, when it ends: no quadratic concat). */
  private partial: string[] = [];
  private partialSize = 0;
  private data: string[] = [];
  private dataSize = 0;
  private eventType: string | undefined;
  /** The previous chunk ended in CR: a LF opening the next chunk belongs to the same line end. */
  private skipLf = false;

  constructor(private readonly maxEventSize: number = DEFAULT_MAX_EVENT_SIZE) {}

  /** Feeds one chunk; returns the events it completed (possibly none). */
  push(chunk: Buffer | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const out: SseEvent[] = [];
    this.scan(text, out);
    return out;
  }

  /** Ends the stream: completes a last event that lacks only its terminating blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    this.scan(this.decoder.end(), out);
    if (this.partial.length > 0) {
      const line = this.partial.join('');
      this.partial = [];
      this.partialSize = 0;
      this.line(line, out);
    }
    this.dispatch(out);
    return out;
  }

  private scan(text: string, out: SseEvent[]): void {
    const length = text.length;
    let start = 0;
    if (this.skipLf && length > 0) {
      if (text.charCodeAt(0) === LF) start = 1;
      this.skipLf = false;
    }
    // Next CR and LF positions are cached so a chunk with many lines is scanned only once.
    let nextLf = text.indexOf('\n', start);
    let nextCr = text.indexOf('\r', start);
    while (start < length) {
      if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf('\n', start);
      if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf('\r', start);
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
      if (end === -1) {
        const rest = start === 0 ? text : text.slice(start);
        this.partialSize += rest.length;
        this.checkSize(0);
        this.partial.push(rest);
        return;
      }
      let line = text.slice(start, end);
      if (this.partial.length > 0) {
        this.partial.push(line);
        line = this.partial.join('');
        this.partial = [];
        this.partialSize = 0;
      }
      this.line(line, out);
      start = end + 1;
      if (text.charCodeAt(end) === CR) {
        if (start === length) this.skipLf = true;
        else if (text.charCodeAt(start) === LF) start += 1;
      }
    }
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment, e.g. ": ping" keep-alives */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.checkSize(value.length);
      this.data.push(value);
      this.dataSize += value.length + 1;
    } else if (field === 'event') {
      this.eventType = value;
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (this.data.length > 0) {
      const data = this.data.length === 1 ? (this.data[0] as string) : this.data.join('\n');
      out.push(this.eventType ? { event: this.eventType, data } : { data });
    }
    this.data = [];
    this.dataSize = 0;
    this.eventType = undefined;
  }

  private checkSize(extra: number): void {
    if (this.dataSize + this.partialSize + extra > this.maxEventSize) {
      this.partial = [];
      this.partialSize = 0;
      this.data = [];
      this.dataSize = 0;
      throw new SseEventTooLargeError(this.maxEventSize);
    }
  }
}
