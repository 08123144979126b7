// OTLP protobuf encoding of finished spans (an ExportTraceServiceRequest), in one pass into one
// reusable buffer. It writes the same bytes as the SDK's ProtobufTraceSerializer (same fields,
// same order, canonical lengths) without its size-estimating first pass, per-id byte arrays or
// per-character string copies; the resource and scope are encoded once and attribute keys are
// kept encoded. tracing-otlp-protobuf.test.ts decodes both with protobufjs and compares.
import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'] & { attributes?: Attributes; droppedAttributesCount?: number };

/**
 * A span whose attributes come in two parts (RecordedSpan): a frozen set shared by many spans,
 * encoded once and then copied by identity, and the span's own. Other spans are read through
 * `attributes`.
 */
interface SplitAttributes {
  readonly sharedAttributes: Readonly<Attributes> | undefined;
  readonly ownAttributes: Attributes;
}

/** Encoded Span messages of one resource and scope, waiting for their request. */
interface PendingSpans {
  buf: Buffer;
  pos: number;
}

/** Attribute keys kept encoded; keys past this many are encoded each time. */
const KEY_CACHE_LIMIT = 1024;
/**
 * Whole key-value pairs with short string values are kept encoded too (most of a gateway span's
 * attributes repeat: methods, models, deployments, strategies), up to this many values per key;
 * a key that passes it (request ids, reasons) is marked and its pairs are encoded each time.
 */
const VALUES_PER_KEY = 32;
const CACHED_VALUE_LENGTH = 64;
/** Strings up to this many UTF-16 units are copied by hand; longer ones by Buffer#write. */
const SHORT_STRING = 64;
const MAX_BUFFER_KEPT = 8 * 1024 * 1024;
/** Initial size of a resource and scope's buffer of appended spans. */
const GROUP_BUFFER = 64 * 1024;
const TWO_POW_32 = 4294967296;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;

/** Hex digit value by char code (0-9, a-f, A-F). */
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export class OtlpTraceEncoder {
  /**
   * The two buffers requests are built in, in turn. takeRequest() returns a view of one, not a
   * copy: a fresh megabyte per post is external memory that V8 counts towards its collection
   * limits, and at saturation it drove a traced gateway into a mark-compact every ~0.6 s. A
   * request stays intact while the next one is built (the processor posts one at a time).
   */
  private readonly requestBuffers: Buffer[] = [Buffer.allocUnsafe(64 * 1024), Buffer.allocUnsafe(64 * 1024)];
  private turn = 0;
  private buf: Buffer = this.requestBuffers[0]!;
  private pos = 0;
  /** KeyValue.key as encoded bytes (tag, length, UTF-8), by key. */
  private readonly keys = new Map<string, Buffer>();
  /** A KeyValue with a short string value as encoded bytes (length prefix included), by key then value; null: too many values. */
  private readonly pairs = new Map<string, Map<string, Buffer> | null>();
  /** ResourceSpans.resource (tag included), by resource object: resources are immutable. */
  private readonly resources = new WeakMap<Resource, Buffer>();
  /** ScopeSpans.scope (tag included), by scope object. */
  private readonly scopes = new WeakMap<Scope, Buffer>();
  /** Span.attributes of a shared attribute set (tags included), by its frozen object. */
  private readonly sharedSets = new WeakMap<Readonly<Attributes>, Buffer>();

  /** Spans encoded by append() and not yet taken, by resource then scope: Span messages, tags included. */
  private readonly pending = new Map<Resource, Map<Scope, PendingSpans>>();
  /** The group of the last span appended: a gateway's spans all share one resource and scope. */
  private last: { resource: Resource; scope: Scope; group: PendingSpans } | undefined;
  /** A taken group's buffer, for the next group: its capacity is reused batch after batch. */
  private spare: Buffer | undefined;
  /** Spans appended since the last takeRequest(). */
  pendingSpans = 0;

  /** The request for `spans` (and any appended before), in a buffer of its own. */
  encode(spans: readonly ReadableSpan[]): Uint8Array {
    this.append(spans);
    return Buffer.from(this.takeRequest());
  }

  /** Encodes spans now and keeps only their bytes until takeRequest(). */
  append(spans: readonly ReadableSpan[]): void {
    const { buf, pos } = this;
    let group: PendingSpans | undefined;
    let spanStart = 0;
    try {
      for (const span of spans) {
        const next = this.groupOf(span.resource, span.instrumentationScope);
        if (next !== group) {
          if (group !== undefined) this.park(group);
          group = next;
          this.buf = group.buf;
          this.pos = group.pos;
        }
        spanStart = this.pos;
        this.tag(0x12);
        const at = this.open(2);
        this.span(span);
        this.close(at, 2);
        this.pendingSpans++;
      }
      if (group !== undefined) this.park(group);
    } catch (error) {
      // Keep the spans before the one that failed; drop its partial bytes.
      if (group !== undefined) {
        this.pos = spanStart;
        this.park(group);
      }
      throw error;
    } finally {
      this.buf = buf;
      this.pos = pos;
    }
  }

  /**
   * The request for every span appended since the last call (empty when none was): a view that
   * stays intact until the call after next.
   */
  takeRequest(): Uint8Array {
    this.buf = this.requestBuffers[this.turn]!;
    this.pos = 0;
    for (const [resource, byScope] of this.pending) {
      this.tag(0x0a);
      const resourceSpans = this.open(3);
      this.cached(this.resources, resource, () => this.resource(resource));
      for (const [scope, group] of byScope) {
        this.tag(0x12);
        const scopeSpans = this.open(3);
        this.cached(this.scopes, scope, () => this.scope(scope));
        this.raw(group.buf.subarray(0, group.pos));
        if (group.buf.length <= MAX_BUFFER_KEPT) this.spare = group.buf;
        if (scope.schemaUrl) {
          this.tag(0x1a);
          this.string(scope.schemaUrl);
        }
        this.close(scopeSpans, 3);
      }
      if (resource.schemaUrl) {
        this.tag(0x1a);
        this.string(resource.schemaUrl);
      }
      this.close(resourceSpans, 3);
    }
    // Groups start afresh: the next request orders them as its own spans come.
    this.pending.clear();
    this.last = undefined;
    this.pendingSpans = 0;
    const out = this.buf.subarray(0, this.pos);
    // A grown buffer is kept for the next request built in it, unless it grew past the limit.
    this.requestBuffers[this.turn] = this.buf.length > MAX_BUFFER_KEPT ? Buffer.allocUnsafe(64 * 1024) : this.buf;
    this.turn ^= 1;
    return out;
  }

  /** Keeps what was written into a group's buffer (append writes through this.buf). */
  private park(group: PendingSpans): void {
    group.buf = this.buf;
    group.pos = this.pos;
  }

  /** Where spans of a resource and scope are appended (first-seen order, by identity, as the SDK groups them). */
  private groupOf(resource: Resource, scope: Scope): PendingSpans {
    const last = this.last;
    if (last !== undefined && last.resource === resource && last.scope === scope) return last.group;
    let byScope = this.pending.get(resource);
    if (byScope === undefined) this.pending.set(resource, (byScope = new Map()));
    let group = byScope.get(scope);
    if (group === undefined) {
      byScope.set(scope, (group = { buf: this.spare ?? Buffer.allocUnsafe(GROUP_BUFFER), pos: 0 }));
      this.spare = undefined;
    }
    this.last = { resource, scope, group };
    return group;
  }

  private span(span: ReadableSpan): void {
    const context = span.spanContext();
    this.context(context);
    const parent = span.parentSpanContext;
    if (parent?.spanId) {
      this.ensure(10);
      this.tag(0x22);
      this.id(parent.spanId, 8);
    }
    this.tag(0x2a);
    this.string(span.name);
    this.ensure(2 + 18 + 18);
    this.tag(0x30);
    this.varint(span.kind + 1);
    this.tag(0x39);
    this.time(span.startTime);
    this.tag(0x41);
    this.time(span.endTime);
    const split = span as Partial<SplitAttributes>;
    if (split.ownAttributes === undefined) this.attributes(span.attributes, 0x4a);
    else {
      const shared = split.sharedAttributes;
      if (shared !== undefined) this.cached(this.sharedSets, shared, () => this.attributes(shared, 0x4a));
      this.attributes(split.ownAttributes, 0x4a);
    }
    this.tag(0x50);
    this.varint(span.droppedAttributesCount);
    for (const event of span.events) {
      this.tag(0x5a);
      const at = this.open(1);
      this.ensure(9);
      this.tag(0x09);
      this.time(event.time);
      this.tag(0x12);
      this.string(event.name);
      if (event.attributes) this.attributes(event.attributes, 0x1a);
      this.tag(0x20);
      this.varint(event.droppedAttributesCount ?? 0);
      this.close(at, 1);
    }
    this.tag(0x60);
    this.varint(span.droppedEventsCount);
    for (const link of span.links) {
      this.tag(0x6a);
      const at = this.open(1);
      const linked = link.context;
      this.context(linked);
      if (link.attributes) this.attributes(link.attributes, 0x22);
      this.tag(0x28);
      this.varint(link.droppedAttributesCount ?? 0);
      this.tag(0x35);
      this.fixed32(spanFlags(linked.traceFlags, linked.isRemote));
      this.close(at, 1);
    }
    this.tag(0x70);
    this.varint(span.droppedLinksCount);
    this.tag(0x7a);
    const status = this.open(1);
    if (span.status.message) {
      this.tag(0x12);
      this.string(span.status.message);
    }
    this.tag(0x18);
    this.varint(span.status.code);
    this.close(status, 1);
    // Field 16, wire type 5: a two-byte tag.
    this.tag(0x85);
    this.tag(0x01);
    this.fixed32(spanFlags(context.traceFlags, parent?.isRemote));
  }

  /** trace_id, span_id and trace_state: fields 1-3 of both a Span and a Span.Link. */
  private context(context: SpanContext): void {
    this.ensure(2 + 16 + 2 + 8);
    this.tag(0x0a);
    this.id(context.traceId, 16);
    this.tag(0x12);
    this.id(context.spanId, 8);
    const traceState = context.traceState?.serialize();
    if (traceState) {
      this.tag(0x1a);
      this.string(traceState);
    }
  }

  private resource(resource: Resource): void {
    this.tag(0x0a);
    const at = this.open(2);
    this.attributes(resource.attributes, 0x0a);
    this.tag(0x10);
    this.varint(0);
    this.close(at, 2);
  }

  private scope(scope: Scope): void {
    this.tag(0x0a);
    const at = this.open(1);
    this.tag(0x0a);
    this.string(scope.name);
    if (scope.version) {
      this.tag(0x12);
      this.string(scope.version);
    }
    if (scope.attributes) this.attributes(scope.attributes, 0x1a);
    if (scope.droppedAttributesCount) {
      this.tag(0x20);
      this.varint(scope.droppedAttributesCount);
    }
    this.close(at, 1);
  }

  /** Writes bytes encoded once per object, encoding them on first sight. */
  private cached<K extends object>(cache: WeakMap<K, Buffer>, key: K, write: () => void): void {
    let bytes = cache.get(key);
    if (bytes === undefined) {
      const start = this.pos;
      write();
      bytes = Buffer.from(this.buf.subarray(start, this.pos));
      cache.set(key, bytes);
      return;
    }
    this.raw(bytes);
  }

  /** Repeated KeyValue under the one-byte tag `tag`. */
  private attributes(attributes: Attributes, tag: number): void {
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      const value = attributes[key];
      this.tag(tag);
      if (typeof value === 'string' && value.length <= CACHED_VALUE_LENGTH) this.stringPair(key, value);
      else this.keyValue(key, value);
    }
  }

  /** A KeyValue message (length-prefixed) of a short string value, copied when seen before. */
  private stringPair(key: string, value: string): void {
    let values = this.pairs.get(key);
    const cached = values?.get(value);
    if (cached !== undefined) {
      this.raw(cached);
      return;
    }
    const start = this.pos;
    this.keyValue(key, value);
    if (values === null || this.pairs.size >= KEY_CACHE_LIMIT) return;
    if (values === undefined) this.pairs.set(key, (values = new Map()));
    if (values.size >= VALUES_PER_KEY) this.pairs.set(key, null);
    else values.set(value, Buffer.from(this.buf.subarray(start, this.pos)));
  }

  /** A KeyValue message, length-prefixed. */
  private keyValue(key: string, value: AttributeValue | undefined): void {
    const kv = this.open(1);
    const encoded = this.keys.get(key);
    if (encoded !== undefined) this.raw(encoded);
    else this.key(key);
    this.tag(0x12);
    const at = this.open(1);
    this.anyValue(value);
    this.close(at, 1);
    this.close(kv, 1);
  }

  private key(key: string): void {
    const start = this.pos;
    this.tag(0x0a);
    this.string(key);
    if (this.keys.size < KEY_CACHE_LIMIT) this.keys.set(key, Buffer.from(this.buf.subarray(start, this.pos)));
  }

  private anyValue(value: AttributeValue | undefined | null | Uint8Array | Attributes): void {
    switch (typeof value) {
      case 'string':
        this.tag(0x0a);
        this.string(value);
        return;
      case 'boolean':
        this.ensure(2);
        this.tag(0x10);
        this.buf[this.pos++] = value ? 1 : 0;
        return;
      case 'number':
        this.ensure(11);
        if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
          this.tag(0x18);
          this.varint(value);
        } else {
          this.tag(0x21);
          this.buf.writeDoubleLE(value, this.pos);
          this.pos += 8;
        }
        return;
      case 'object':
        if (value === null) return;
        if (value instanceof Uint8Array) {
          this.tag(0x3a);
          this.varint(value.length);
          this.raw(value);
        } else if (Array.isArray(value)) {
          this.tag(0x2a);
          const array = this.open(1);
          for (const item of value as unknown[]) {
            this.tag(0x0a);
            const at = this.open(1);
            this.anyValue(item as AttributeValue);
            this.close(at, 1);
          }
          this.close(array, 1);
        } else {
          this.tag(0x32);
          const list = this.open(1);
          this.attributes(value as Attributes, 0x0a);
          this.close(list, 1);
        }
        return;
      default:
        return;
    }
  }

  /** A length-delimited string: short ASCII by hand, the rest by Buffer#write. */
  private string(s: string): void {
    const n = s.length;
    if (n < SHORT_STRING) {
      this.ensure(1 + n);
      const buf = this.buf;
      const start = this.pos;
      let pos = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[pos++] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.pos = pos;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + bytes);
    this.varint(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  /** A length-delimited id from its hex form, straight into the buffer (capacity ensured). */
  private id(hex: string, bytes: number): void {
    const buf = this.buf;
    buf[this.pos++] = bytes;
    for (let i = 0; i < bytes; i++) buf[this.pos++] = (HEX[hex.charCodeAt(2 * i)]! << 4) | HEX[hex.charCodeAt(2 * i + 1)]!;
  }

  /** An HrTime as fixed64 nanoseconds since the epoch (capacity ensured). */
  private time(time: HrTime): void {
    // seconds * 1e9 + nanos exceeds 2^53: split the seconds so each product stays exact.
    const seconds = time[0];
    const low16 = (seconds & 0xffff) * 1e9;
    const high = Math.floor(seconds / 0x10000) * 1e9;
    const sumLow = (low16 >>> 0) + ((high & 0xffff) * 0x10000) + time[1];
    this.fixed32Raw(sumLow >>> 0);
    this.fixed32Raw((Math.floor(low16 / TWO_POW_32) + Math.floor(high / 0x10000) + Math.floor(sumLow / TWO_POW_32)) >>> 0);
  }

  private fixed32(v: number): void {
    this.ensure(4);
    this.fixed32Raw(v);
  }

  private fixed32Raw(v: number): void {
    const buf = this.buf;
    buf[this.pos++] = v & 0xff;
    buf[this.pos++] = (v >>> 8) & 0xff;
    buf[this.pos++] = (v >>> 16) & 0xff;
    buf[this.pos++] = v >>> 24;
  }

  /** One-byte tags (fields 1-15) and the bytes of a two-byte one. */
  private tag(byte: number): void {
    this.ensure(1);
    this.buf[this.pos++] = byte;
  }

  /** A varint of an integer in the int64 range; negative ones take ten bytes (two's complement). */
  private varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value < TWO_POW_32) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = Math.floor(abs / TWO_POW_32) >>> 0;
    if (value < 0) {
      low = (~low + 1) >>> 0;
      high = (~high + (low === 0 ? 1 : 0)) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low;
  }

  private raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n > 32) {
      this.buf.set(bytes, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[this.pos++] = bytes[i]!;
  }

  /** Reserves `reserved` bytes for a length written by close(). */
  private open(reserved: number): number {
    this.ensure(reserved);
    const at = this.pos;
    this.pos += reserved;
    return at;
  }

  /** Writes the length of what follows the reservation at `at`, moving it when the varint is not `reserved` bytes long. */
  private close(at: number, reserved: number): void {
    const length = this.pos - at - reserved;
    const size = varintSize(length);
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copyWithin(at + size, at + reserved, this.pos);
      this.pos += size - reserved;
    }
    const buf = this.buf;
    let v = length;
    let p = at;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | SPAN_FLAGS_HAS_IS_REMOTE | (isRemote ? SPAN_FLAGS_IS_REMOTE : 0);
}
