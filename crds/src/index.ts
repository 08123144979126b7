export * from './runtime-config.js';
export * from './validation.js';
