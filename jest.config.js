// One runner for every workspace. TypeScript is compiled by SWC; tests run as native ESM
// (NODE_OPTIONS=--experimental-vm-modules) so ESM-only dependencies import as they are.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@switchboard/crds$': '<rootDir>/crds/src/index.ts',
    '^@switchboard/crds/runtime$': '<rootDir>/crds/src/runtime.ts',
    '^@switchboard/operator/runtime$': '<rootDir>/operator/src/runtime/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{crds,dataplane,operator}/src/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
    },
  ],
};
