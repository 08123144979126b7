export * from './runtime-config.js';
export * from './validation.js';
export * from './reference.js';
export * from './crd.js';
export * from './group.js';
export * from './gateway-config.js';
export * from './routing-model.js';
export * from './manifests.js';
