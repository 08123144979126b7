// Attribute sets that repeat across requests (an operation's method and path, a rule routing
// decision, a deployment's GenAI request attributes), built once and frozen, so spans share them
// and the OTLP encoder encodes each once (tracing-otlp-protobuf.ts).
import type { Attributes } from '@opentelemetry/api';

/** What a set is built from, compared with === (config strings are the same instances request after request). */
export type SetPart = string | number | boolean | undefined;

interface Entry {
  parts: readonly SetPart[];
  set: Readonly<Attributes>;
}

/**
 * Sets by a primary key (a Map lookup on a string whose hash is usually cached) and then the
 * parts they were built from (a short scan): no key string is built per request. Bounded: when
 * `limit` sets are kept (deployments renamed by reloads, retry reasons that name failures) it
 * starts afresh; spans that hold a set keep it.
 */
export class SharedSets {
  private readonly byPrimary = new Map<string, Entry[]>();
  private size = 0;

  constructor(private readonly limit: number) {}

  /** The set built from `primary` and `parts`, building it with `build` the first time. */
  get(primary: string, parts: readonly SetPart[], build: (into: Attributes) => void): Readonly<Attributes> {
    let entries = this.byPrimary.get(primary);
    if (entries !== undefined) {
      for (const entry of entries) if (sameParts(entry.parts, parts)) return entry.set;
    }
    if (this.size >= this.limit) {
      this.byPrimary.clear();
      this.size = 0;
      entries = undefined;
    }
    const into: Attributes = {};
    build(into);
    const set = Object.freeze(into);
    if (entries === undefined) this.byPrimary.set(primary, (entries = []));
    entries.push({ parts, set });
    this.size++;
    return set;
  }
}

function sameParts(a: readonly SetPart[], b: readonly SetPart[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
