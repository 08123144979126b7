// The neural heads' first layer: sparse features times a dense weight matrix, as a sum of the
// gathered weight rows (no dense input vector). FirstLayer (float32 weights, float64 sums) is what
// training reads and updates; Int8FirstLayer (int8 weights with a float32 scale per row, float32
// sums) is what a trained head predicts with: a 64-unit row is one cache line instead of four.
// Each runs a WebAssembly SIMD kernel of first-layer.wat when it can and a scalar loop otherwise;
// kernel and loop do the same float operations in the same order, so they give identical results.
import { firstLayerWasm } from './first-layer-wasm.js';

type Kernel = (hidden: number, count: number, indicesAt: number, valuesAt: number, outAt: number) => void;
type Int8Kernel = (hidden: number, count: number, indicesAt: number, valuesAt: number, scalesAt: number, outAt: number) => void;

// Node has WebAssembly; the ES2023 lib the project compiles against does not declare it.
interface WasmModule {
  readonly kind: 'wasm-module';
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: Record<string, unknown> };
};

const PAGE = 65536;
let module: WasmModule | undefined;

interface Wasm {
  kernel: Kernel;
  weights: Float32Array;
  out: Float64Array;
  indices: Int32Array;
  values: Float32Array;
}

/** A kernel instance with at least `bytes` of memory; null if that much cannot be had. */
function instanceWith(bytes: number): { exports: Record<string, unknown>; memory: WasmMemory } | null {
  module ??= new WebAssembly.Module(Buffer.from(firstLayerWasm, 'base64'));
  const instance = new WebAssembly.Instance(module);
  const memory = instance.exports.memory as WasmMemory;
  try {
    memory.grow(Math.max(0, Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE));
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
  return { exports: instance.exports, memory };
}

/** A kernel instance whose memory holds the weights, then scratch for one query; null if too big. */
function instantiate(weights: Float32Array, hidden: number, maxFeatures: number): Wasm | null {
  const weightBytes = weights.length * 4;
  const outAt = Math.ceil(weightBytes / 16) * 16;
  const indicesAt = outAt + hidden * 8;
  const valuesAt = indicesAt + maxFeatures * 4;
  const instance = instanceWith(valuesAt + maxFeatures * 4);
  if (instance === null) return null;
  const { memory } = instance;
  const wasmWeights = new Float32Array(memory.buffer, 0, weights.length);
  wasmWeights.set(weights);
  return {
    kernel: instance.exports.gather as Kernel,
    weights: wasmWeights,
    out: new Float64Array(memory.buffer, outAt, hidden),
    indices: new Int32Array(memory.buffer, indicesAt, maxFeatures),
    values: new Float32Array(memory.buffer, valuesAt, maxFeatures),
  };
}

export class FirstLayer {
  /** weights[j * hidden + u]: feature j's row. In the kernel's memory when it is used, so updates reach it. */
  readonly weights: Float32Array;
  private readonly hidden: number;
  private readonly wasm: Wasm | null;

  constructor(weights: Float32Array, hidden: number) {
    this.hidden = hidden;
    const features = weights.length / hidden;
    this.wasm = hidden % 2 === 0 ? instantiate(weights, hidden, features) : null;
    this.weights = this.wasm?.weights ?? weights;
  }

  /** out[u] = bias[u] + sum over q in [start, end) of values[q] * weights[indices[q] * hidden + u]. */
  apply(bias: Float32Array, indices: Int32Array, values: Float32Array, start: number, end: number, out: Float64Array): void {
    const H = this.hidden;
    const wasm = this.wasm;
    if (wasm !== null) {
      const whole = start === 0 && end === indices.length;
      wasm.indices.set(whole ? indices : indices.subarray(start, end));
      wasm.values.set(whole ? values : values.subarray(start, end));
      for (let u = 0; u < H; u++) wasm.out[u] = bias[u]!;
      wasm.kernel(H, end - start, wasm.indices.byteOffset, wasm.values.byteOffset, wasm.out.byteOffset);
      out.set(wasm.out);
      return;
    }
    const w = this.weights;
    for (let u = 0; u < H; u++) out[u] = bias[u]!;
    for (let q = start; q < end; q++) {
      const row = indices[q]! * H;
      const x = values[q]!;
      for (let u = 0; u < H; u++) out[u]! += x * w[row + u]!;
    }
  }
}

/** Row j quantized: weights[j * hidden + u] ~ scales[j] * int8, the row's largest magnitude at +-127. */
export function quantizeRows(weights: Float32Array, hidden: number, into: { weights: Int8Array; scales: Float32Array }): void {
  const rows = weights.length / hidden;
  for (let j = 0; j < rows; j++) {
    let largest = 0;
    for (let u = 0; u < hidden; u++) largest = Math.max(largest, Math.abs(weights[j * hidden + u]!));
    const scale = Math.fround(largest / 127);
    into.scales[j] = scale;
    for (let u = 0; u < hidden; u++) into.weights[j * hidden + u] = scale === 0 ? 0 : Math.round(weights[j * hidden + u]! / scale);
  }
}

interface Int8Wasm {
  kernel: Int8Kernel;
  out: Float32Array;
  indices: Int32Array;
  values: Float32Array;
  scalesAt: number;
}

export class Int8FirstLayer {
  /** weights[j * hidden + u]: feature j's row, as int8 multiples of scales[j]. */
  readonly weights: Int8Array;
  readonly scales: Float32Array;
  private readonly hidden: number;
  private readonly wasm: Int8Wasm | null;
  private readonly sums: Float32Array;

  /** Quantizes `weights` (float32, row-major, `hidden` per row); the kernel needs hidden % 16 === 0. */
  constructor(weights: Float32Array, hidden: number) {
    this.hidden = hidden;
    const rows = weights.length / hidden;
    const scalesAt = Math.ceil(weights.length / 16) * 16;
    const outAt = scalesAt + rows * 4;
    const indicesAt = outAt + hidden * 4;
    const valuesAt = indicesAt + rows * 4;
    const instance = hidden % 16 === 0 ? instanceWith(valuesAt + rows * 4) : null;
    const buffer = instance?.memory.buffer;
    this.weights = buffer === undefined ? new Int8Array(weights.length) : new Int8Array(buffer, 0, weights.length);
    this.scales = buffer === undefined ? new Float32Array(rows) : new Float32Array(buffer, scalesAt, rows);
    quantizeRows(weights, hidden, this);
    this.wasm =
      instance === null || buffer === undefined
        ? null
        : {
            kernel: instance.exports.gather_i8 as Int8Kernel,
            out: new Float32Array(buffer, outAt, hidden),
            indices: new Int32Array(buffer, indicesAt, rows),
            values: new Float32Array(buffer, valuesAt, rows),
            scalesAt,
          };
    this.sums = this.wasm?.out ?? new Float32Array(hidden);
  }

  /** out[u] = bias[u] + sum over q in [start, end) of (values[q] * scales[j]) * weights[j * hidden + u], j = indices[q], in float32 (FirstLayer's signature). */
  apply(bias: Float32Array, indices: Int32Array, values: Float32Array, start: number, end: number, out: Float64Array): void {
    const H = this.hidden;
    const sums = this.sums;
    sums.set(bias);
    const wasm = this.wasm;
    if (wasm !== null) {
      const whole = start === 0 && end === indices.length;
      wasm.indices.set(whole ? indices : indices.subarray(start, end));
      wasm.values.set(whole ? values : values.subarray(start, end));
      wasm.kernel(H, end - start, wasm.indices.byteOffset, wasm.values.byteOffset, wasm.scalesAt, sums.byteOffset);
    } else {
      const { weights, scales } = this;
      const f = Math.fround;
      for (let q = start; q < end; q++) {
        const j = indices[q]!;
        const x = f(values[q]! * scales[j]!);
        for (let u = 0, row = j * H; u < H; u++) sums[u] = f(sums[u]! + f(x * weights[row + u]!));
      }
    }
    for (let u = 0; u < H; u++) out[u] = sums[u]!;
  }
}
