// A jest environment for tests that run onnxruntime-node in-process. Its native addon creates
// typed arrays in Node's own realm, and onnxruntime-common (loaded inside jest's vm context)
// checks them with `instanceof` against the context's constructors, which fails; here the
// context shares Node's typed-array constructors. Test tooling only: outside jest there is one realm.
// Use with a docblock: @jest-environment ./test/learned-routing/onnx-jest-environment.mjs
import { TestEnvironment } from 'jest-environment-node';

const TYPED_ARRAYS = ['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array', 'ArrayBuffer'];

export default class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}
