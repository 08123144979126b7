import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', '.local/**', 'charts/**', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test-support.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // The gateway loads only the runtime-config schemas; the CRD schemas would cost it memory.
    files: ['dataplane/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@switchboard/crds', message: 'Import from @switchboard/crds/runtime in the data plane.' }] }],
    },
  },
);
