// What the operator reads of a router artifact: its JSON header (head kind, featurizer, models),
// enough to hold a RoutingModel spec to the artifact it names. The format (magic, version, header
// length, header) is the data plane's (dataplane/src/routing/learned/artifact.ts); the tensors and
// a signature trailer after them are not read here.
import { gunzipSync } from 'node:zlib';
import type { RoutingModelSpec } from '@switchboard/crds';

const MAGIC = 'SWBROUTE';
const PREFIX_BYTES = 16;

export interface ArtifactSummary {
  kind: string;
  featurizer: { type: string; dimensions: number | undefined };
  models: string[];
}

/** The artifact's header, or why it cannot be read. Accepts gzip-compressed artifacts. */
export function summarizeArtifact(stored: Uint8Array): ArtifactSummary | string {
  let bytes = stored;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      return 'starts like gzip but does not decompress';
    }
  }
  if (bytes.length < PREFIX_BYTES || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) return `is not a Switchboard router artifact (no "${MAGIC}" magic bytes at the start)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(12, true);
  if (PREFIX_BYTES + headerBytes > bytes.length) return 'is truncated (its header is longer than the artifact)';
  let header: { kind?: unknown; featurizer?: { type?: unknown; params?: { dim?: unknown } }; models?: unknown };
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)).toString('utf8')) as typeof header;
  } catch {
    return 'has a header that is not JSON';
  }
  const { kind, featurizer, models } = header;
  if (typeof kind !== 'string' || typeof featurizer?.type !== 'string' || !Array.isArray(models) || !models.every((m) => typeof m === 'string')) {
    return 'has a header without kind, featurizer.type or models';
  }
  const dim = featurizer.params?.dim;
  return { kind, featurizer: { type: featurizer.type, dimensions: typeof dim === 'number' ? dim : undefined }, models: models as string[] };
}

/** The first way `spec` disagrees with the artifact, as a message naming the field; undefined when none. */
export function artifactMismatch(spec: RoutingModelSpec, artifact: ArtifactSummary): string | undefined {
  if (spec.router !== artifact.kind) return `spec.router is ${spec.router} but the artifact's head is ${artifact.kind}`;
  const f = spec.featurizer;
  if (f && f.type !== artifact.featurizer.type) return `spec.featurizer.type is ${f.type} but the artifact was trained with the ${artifact.featurizer.type} featurizer`;
  if (f?.dimensions !== undefined && f.dimensions !== artifact.featurizer.dimensions) {
    return `spec.featurizer.dimensions is ${f.dimensions} but the artifact's featurizer has ${artifact.featurizer.dimensions ?? 'no recorded dimensions'}`;
  }
  if (f?.url !== undefined && artifact.featurizer.type !== 'http') return `spec.featurizer.url is set but the artifact's featurizer is ${artifact.featurizer.type}, not http`;
  const known = new Set(artifact.models);
  for (const [i, c] of spec.candidates.entries()) {
    const model = c.artifactModel ?? c.name;
    if (!known.has(model)) {
      const field = c.artifactModel === undefined ? `spec.candidates[${i}].name` : `spec.candidates[${i}].artifactModel`;
      return `${field} "${model}" is not a model of the artifact (it knows ${artifact.models.join(', ')}); name the artifact's model in artifactModel`;
    }
  }
  return undefined;
}
