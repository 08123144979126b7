// Embeddings computed ahead for a known set of texts (training, eval, cross-validation), served
// synchronously so the heads' training and the evaluation stay synchronous. Records itself as the
// featurizer that computed them, so the artifact names the real one.
import type { Tensor } from '../artifact.js';
import type { AsyncFeaturizer, FeaturizerRecord, SyncFeaturizer } from '../featurizer.js';
import type { SparseVector } from '../sparse.js';

export class EmbeddedFeaturizer implements SyncFeaturizer {
  readonly sync = true;
  readonly type: string;
  readonly dim: number;
  private readonly source: FeaturizerRecord;
  private readonly rows: ReadonlyMap<string, SparseVector>;

  constructor(source: FeaturizerRecord, rows: ReadonlyMap<string, SparseVector>) {
    this.source = source;
    this.type = source.type;
    this.dim = Number(source.params.dim);
    this.rows = rows;
  }

  featurize(text: string): SparseVector {
    const row = this.rows.get(text);
    if (row === undefined) throw new Error(`${this.type} featurizer: a text was not embedded ahead (${this.rows.size} were)`);
    return row;
  }

  record(): FeaturizerRecord {
    return this.source;
  }

  tensors(): Tensor[] {
    return [];
  }
}

/** Embeds each distinct text once. */
export async function embedAhead(featurizer: AsyncFeaturizer, texts: readonly string[]): Promise<EmbeddedFeaturizer> {
  const distinct = [...new Set(texts)];
  const rows = await featurizer.featurizeMany(distinct);
  return new EmbeddedFeaturizer(featurizer.record(), new Map(distinct.map((t, i) => [t, rows[i]!])));
}
