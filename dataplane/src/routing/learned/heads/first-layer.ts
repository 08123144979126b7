// The neural heads' first layer: sparse features times a dense float32 weight matrix, as a sum of
// the gathered weight rows (no dense input vector). Runs the WebAssembly SIMD kernel of
// first-layer.wat when the hidden width is even and its memory can be had; a scalar loop otherwise.
// Both do the same float64 operations in the same order, so they give identical results.
import { firstLayerWasm } from './first-layer-wasm.js';

type Kernel = (hidden: number, count: number, indicesAt: number, valuesAt: number, outAt: number) => void;

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

/** A kernel instance whose memory holds the weights, then scratch for one query; null if too big. */
function instantiate(weights: Float32Array, hidden: number, maxFeatures: number): Wasm | null {
  const weightBytes = weights.length * 4;
  const outAt = Math.ceil(weightBytes / 16) * 16;
  const indicesAt = outAt + hidden * 8;
  const valuesAt = indicesAt + maxFeatures * 4;
  const bytes = valuesAt + maxFeatures * 4;
  module ??= new WebAssembly.Module(Buffer.from(firstLayerWasm, 'base64'));
  const instance = new WebAssembly.Instance(module);
  const memory = instance.exports.memory as WasmMemory;
  try {
    memory.grow(Math.max(0, Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE));
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
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
