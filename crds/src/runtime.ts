// What the data plane loads at run time: the runtime-config schema, its hash and the validation
// helpers. Not the custom resources: their schemas cost the gateway memory it never uses.
export * from './runtime-config.js';
export * from './hash.js';
export * from './validation.js';
