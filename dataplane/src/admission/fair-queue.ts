// Weighted fair queueing between the priority classes waiting at one priority level (start-time
// fair queueing): each waiter gets a start tag, max(virtual time, its flow's last tag) + 1/weight
// for the next one, and the smallest tag is served first. Backlogged flows share the freed slots
// in proportion to their weights; a flow that was idle starts at the virtual time, so it gets no
// burst for having waited.

export interface Flow {
  /** The priority class (its keys share one flow). */
  name: string;
  /** Share of the freed slots relative to the other backlogged flows at the same level. */
  weight: number;
}

interface Entry<T> {
  item: T;
  tag: number;
  seq: number;
}

export class FairQueue<T> {
  private readonly entries: Entry<T>[] = [];
  /** Per flow: the tag its next waiter starts from. */
  private readonly next = new Map<string, number>();
  private virtualTime = 0;
  private seq = 0;

  get length(): number {
    return this.entries.length;
  }

  push(item: T, flow: Flow): void {
    const tag = Math.max(this.virtualTime, this.next.get(flow.name) ?? 0);
    this.next.set(flow.name, tag + 1 / flow.weight);
    this.entries.push({ item, tag, seq: this.seq++ });
  }

  /** The waiter to serve next: the smallest start tag, the earliest arrival on a tie. */
  shift(): T | undefined {
    const at = this.indexOf(-1);
    if (at === -1) return undefined;
    const [entry] = this.entries.splice(at, 1);
    this.virtualTime = entry!.tag;
    if (this.entries.length === 0) this.next.clear();
    return entry!.item;
  }

  /** The waiter that would be served last (the one to displace). */
  last(): T | undefined {
    const at = this.indexOf(1);
    return at === -1 ? undefined : this.entries[at]!.item;
  }

  remove(item: T): boolean {
    const at = this.entries.findIndex((e) => e.item === item);
    if (at === -1) return false;
    this.entries.splice(at, 1);
    if (this.entries.length === 0) this.next.clear();
    return true;
  }

  /** Index of the first (sign -1) or last (sign 1) entry in service order; the queue is short (≤ maxQueue). */
  private indexOf(sign: -1 | 1): number {
    let best = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      const b = this.entries[best];
      if (b === undefined || Math.sign(e.tag - b.tag || e.seq - b.seq) === sign) best = i;
    }
    return best;
  }
}
