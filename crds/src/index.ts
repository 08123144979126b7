export * from './runtime-config.js';
export * from './validation.js';
export * from './reference.js';
