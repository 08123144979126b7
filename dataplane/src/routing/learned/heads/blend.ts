// Blend head: the mean of several heads' predictions, each trained on the same features. Heads
// that err differently (neighbours, a bilinear model, rules) average into a better ranking than
// any one of them. The default members are the union of the subsets that nested
// cross-validation picked (docs/learned-routing.md). Member tensors keep their own names
// (knn.*, mf.*, ...), so a kind can appear once.
import type { Artifact, Tensor } from '../artifact.js';
import type { SparseVector } from '../sparse.js';
import type { RouterHead, TrainingSet } from './head.js';

/** How to train and load a head of each kind (the router's table, passed in to avoid an import cycle). */
export type HeadRegistry = Readonly<Record<string, { train(set: TrainingSet, params: Record<string, unknown>, seed: number): RouterHead; load(artifact: Artifact): RouterHead }>>;

export interface BlendMember {
  kind: string;
  params: Record<string, unknown>;
}

export const defaultBlendMembers: readonly string[] = ['knn', 'linear', 'mf', 'rules'];

/** Members from `{members: ["knn", {kind: "mf", params: {...}}, ...]}`; errors name the member. */
export function blendMembers(raw: Record<string, unknown>, registry: HeadRegistry): BlendMember[] {
  const list = raw.members ?? defaultBlendMembers;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`head parameter members: got ${JSON.stringify(list)}; expected a non-empty list of head kinds`);
  const seen = new Set<string>();
  return list.map((entry: unknown, i) => {
    const member = typeof entry === 'string' ? { kind: entry, params: {} } : (entry as BlendMember);
    const kind = member?.kind;
    if (typeof kind !== 'string' || registry[kind] === undefined || kind === 'blend') {
      throw new Error(`head parameter members[${i}]: got ${JSON.stringify(entry)}; expected one of ${Object.keys(registry).filter((k) => k !== 'blend').join(', ')}`);
    }
    if (seen.has(kind)) throw new Error(`head parameter members[${i}]: "${kind}" is already a member; each kind can appear once`);
    seen.add(kind);
    const params = member.params ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new Error(`head parameter members[${i}].params: expected an object`);
    return { kind, params };
  });
}

export class BlendHead implements RouterHead {
  readonly kind = 'blend';
  readonly modelCount: number;
  readonly readsFeatures: boolean;
  readonly members: readonly RouterHead[];
  private readonly scratch: Float64Array;

  constructor(members: readonly RouterHead[]) {
    this.members = members;
    this.modelCount = members[0]!.modelCount;
    this.readsFeatures = members.some((m) => m.readsFeatures);
    this.scratch = new Float64Array(this.modelCount);
  }

  static train(set: TrainingSet, raw: Record<string, unknown>, seed: number, registry: HeadRegistry): BlendHead {
    return new BlendHead(blendMembers(raw, registry).map((m) => registry[m.kind]!.train(set, m.params, seed)));
  }

  static load(artifact: Artifact, registry: HeadRegistry): BlendHead {
    return new BlendHead(
      blendMembers(artifact.header.head.params, registry).map((m) =>
        registry[m.kind]!.load({ ...artifact, header: { ...artifact.header, kind: m.kind, head: { params: m.params } } }),
      ),
    );
  }

  predict(x: SparseVector, out: Float64Array, query: string): void {
    const m = this.modelCount;
    out.fill(0, 0, m);
    for (const member of this.members) {
      member.predict(x, this.scratch, query);
      for (let k = 0; k < m; k++) out[k]! += this.scratch[k]!;
    }
    for (let k = 0; k < m; k++) out[k]! /= this.members.length;
  }

  tensors(): Tensor[] {
    return this.members.flatMap((m) => m.tensors());
  }

  params(): Record<string, unknown> {
    return { members: this.members.map((m) => ({ kind: m.kind, params: m.params() })) };
  }
}
