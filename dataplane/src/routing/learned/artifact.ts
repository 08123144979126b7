// The router artifact: a versioned, self-describing binary.
//
//   bytes 0..7    magic "SWBROUTE"
//   bytes 8..11   format version, uint32 little-endian
//   bytes 12..15  JSON header length in bytes, uint32 little-endian
//   header        UTF-8 JSON (ArtifactHeader), zero-padded to a multiple of 8 bytes
//   payload       tensors, little-endian, at header.tensors[i].offset bytes from the payload start
//
// The header carries the payload's sha256 so a corrupt file fails on load rather than routing
// on garbage; the sha256 of the whole file is the digest a RoutingModel pins.
import { createHash } from 'node:crypto';

export const ARTIFACT_MAGIC = 'SWBROUTE';
export const ARTIFACT_VERSION = 1;
const PREFIX_BYTES = 16;

export type TensorData = Float32Array | Int32Array;

export interface Tensor {
  name: string;
  shape: number[];
  data: TensorData;
}

export interface TensorEntry {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  /** Byte offset from the start of the payload. */
  offset: number;
}

export interface ModelPrice {
  /** USD per million input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
}

/** A willingness to pay chosen on held-out predictions inside the training data (calibrate.ts). */
export interface LambdaCalibration {
  lambda: number;
  /** What it was chosen to reach: the best single model's quality. */
  target: 'best-single';
  /** Inner cross-validation folds it was chosen on. */
  folds: number;
  /** On those held-out predictions: the router's quality and cost at lambda, and the best single model's. */
  quality: number;
  cost: number;
  bestSingle: { model: string; quality: number; cost: number };
}

export interface TrainingRecord {
  n: number;
  seed: number;
  folds: number;
  calibration?: LambdaCalibration;
}

export interface ArtifactHeader {
  /** Router head kind: knn, linear, ... */
  kind: string;
  version: number;
  featurizer: { type: string; params: Record<string, unknown> };
  /** Candidate models, in the order of every per-model tensor axis. */
  models: string[];
  prices: Record<string, ModelPrice>;
  head: { params: Record<string, unknown> };
  training: TrainingRecord;
  tensors: TensorEntry[];
  payloadSha256: string;
}

export type ArtifactMeta = Omit<ArtifactHeader, 'version' | 'tensors' | 'payloadSha256'>;

export interface Artifact {
  header: ArtifactHeader;
  tensors: Map<string, Tensor>;
  /** sha256 of the whole file, hex. */
  digest: string;
  bytes: number;
}

export class ArtifactError extends Error {}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function encodeArtifact(meta: ArtifactMeta, tensors: readonly Tensor[]): { bytes: Uint8Array; digest: string } {
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (elements(t.shape) !== t.data.length) throw new ArtifactError(`tensor ${t.name}: shape [${t.shape}] holds ${elements(t.shape)} values but the data has ${t.data.length}`);
    entries.push({ name: t.name, dtype: t.data instanceof Int32Array ? 'int32' : 'float32', shape: t.shape, offset });
    offset = align8(offset + t.data.byteLength);
  }
  const payload = new Uint8Array(offset);
  tensors.forEach((t, i) => payload.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), entries[i]!.offset));
  const header: ArtifactHeader = { ...meta, version: ARTIFACT_VERSION, tensors: entries, payloadSha256: sha256(payload) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = align8(json.length);
  const bytes = new Uint8Array(PREFIX_BYTES + headerBytes + payload.length);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(ARTIFACT_MAGIC), 0);
  view.setUint32(8, ARTIFACT_VERSION, true);
  view.setUint32(12, headerBytes, true);
  bytes.set(json, PREFIX_BYTES);
  bytes.fill(0x20, PREFIX_BYTES + json.length, PREFIX_BYTES + headerBytes); // pad with spaces: still valid JSON
  bytes.set(payload, PREFIX_BYTES + headerBytes);
  return { bytes, digest: sha256(bytes) };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `digest`: the sha256 of `bytes` when the caller has it already (saves a pass over a large artifact). */
export function decodeArtifact(bytes: Uint8Array, digest?: string): Artifact {
  if (bytes.length < PREFIX_BYTES || new TextDecoder().decode(bytes.subarray(0, 8)) !== ARTIFACT_MAGIC) {
    throw new ArtifactError(`not a Switchboard router artifact: expected the magic bytes "${ARTIFACT_MAGIC}" at the start of the file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== ARTIFACT_VERSION) throw new ArtifactError(`router artifact format version ${version} is not supported; this build reads version ${ARTIFACT_VERSION} (retrain with this build's \`switchboard router train\`)`);
  const headerBytes = view.getUint32(12, true);
  if (PREFIX_BYTES + headerBytes > bytes.length) throw new ArtifactError(`router artifact is truncated: the header claims ${headerBytes} bytes but the file has ${bytes.length - PREFIX_BYTES} after the prefix`);
  let header: ArtifactHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes))) as ArtifactHeader;
  } catch (error) {
    throw new ArtifactError(`router artifact header is corrupt: ${(error as Error).message}`);
  }
  checkHeader(header);
  const payload = bytes.subarray(PREFIX_BYTES + headerBytes);
  if (sha256(payload) !== header.payloadSha256) throw new ArtifactError('router artifact payload is corrupt: its sha256 does not match the one recorded in the header');
  // Copy the payload once into aligned memory so every tensor is a zero-copy typed-array view.
  const aligned = new Uint8Array(payload.length);
  aligned.set(payload);
  const tensors = new Map<string, Tensor>();
  for (const entry of header.tensors) {
    const count = elements(entry.shape);
    if (entry.offset % 4 !== 0 || entry.offset + count * 4 > aligned.length) throw new ArtifactError(`router artifact tensor ${entry.name} (offset ${entry.offset}, ${count} values) lies outside the ${aligned.length}-byte payload`);
    const data = entry.dtype === 'int32' ? new Int32Array(aligned.buffer, entry.offset, count) : new Float32Array(aligned.buffer, entry.offset, count);
    tensors.set(entry.name, { name: entry.name, shape: entry.shape, data });
  }
  return { header, tensors, digest: digest ?? sha256(bytes), bytes: bytes.length };
}

function checkHeader(h: ArtifactHeader): void {
  const problems: string[] = [];
  if (typeof h !== 'object' || h === null) throw new ArtifactError('router artifact header is corrupt: expected a JSON object');
  if (typeof h.kind !== 'string') problems.push('kind: expected a string');
  if (h.version !== ARTIFACT_VERSION) problems.push(`version: got ${String(h.version)}; expected ${ARTIFACT_VERSION}`);
  if (typeof h.featurizer?.type !== 'string') problems.push('featurizer.type: expected a string');
  if (!Array.isArray(h.models) || h.models.length === 0 || !h.models.every((m) => typeof m === 'string')) problems.push('models: expected a non-empty array of model names');
  if (typeof h.prices !== 'object' || h.prices === null) problems.push('prices: expected an object');
  if (typeof h.payloadSha256 !== 'string') problems.push('payloadSha256: expected a hex string');
  const calibration = (h.training as TrainingRecord | undefined)?.calibration;
  if (calibration !== undefined && (typeof calibration?.lambda !== 'number' || !Number.isFinite(calibration.lambda) || calibration.lambda < 0)) {
    problems.push(`training.calibration.lambda: got ${JSON.stringify(calibration?.lambda)}; expected a number >= 0`);
  }
  if (!Array.isArray(h.tensors)) problems.push('tensors: expected an array');
  else {
    for (const t of h.tensors) {
      if (typeof t?.name !== 'string' || (t.dtype !== 'float32' && t.dtype !== 'int32') || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0) || !Number.isInteger(t.offset) || t.offset < 0) {
        problems.push(`tensors: entry ${JSON.stringify(t)} is not {name, dtype: float32|int32, shape: [int...], offset: int}`);
      }
    }
  }
  if (problems.length > 0) throw new ArtifactError(`router artifact header is invalid: ${problems.join('; ')}`);
}

export function tensor<T extends TensorData>(artifact: Artifact, name: string, type: new (n: number) => T, shape?: readonly (number | undefined)[]): T {
  const t = artifact.tensors.get(name);
  if (t === undefined) throw new ArtifactError(`router artifact (kind ${artifact.header.kind}) lacks the tensor "${name}"`);
  if (!(t.data instanceof type)) throw new ArtifactError(`router artifact tensor "${name}" has the wrong dtype`);
  if (shape !== undefined && (shape.length !== t.shape.length || shape.some((d, i) => d !== undefined && d !== t.shape[i]))) {
    throw new ArtifactError(`router artifact tensor "${name}" has shape [${t.shape}]; expected [${shape.map((d) => d ?? '*')}]`);
  }
  return t.data as T;
}
