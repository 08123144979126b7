// Compiles src/routing/learned/heads/first-layer.wat into first-layer-wasm.ts (the bytes as base64),
// so the build needs no WebAssembly toolchain. Run after editing the .wat; a unit test checks they agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';

const dir = join(import.meta.dirname, '..', 'src', 'routing', 'learned', 'heads');

export async function compileFirstLayer() {
  const wabt = await wabtInit();
  const module = wabt.parseWat('first-layer.wat', readFileSync(join(dir, 'first-layer.wat'), 'utf8'), { simd: true });
  try {
    return Buffer.from(module.toBinary({}).buffer).toString('base64');
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === import.meta.filename) {
  const base64 = await compileFirstLayer();
  writeFileSync(
    join(dir, 'first-layer-wasm.ts'),
    `// Generated from first-layer.wat by dataplane/scripts/build-first-layer-wasm.js; do not edit.\nexport const firstLayerWasm = '${base64}';\n`,
  );
  console.log('wrote first-layer-wasm.ts');
}
