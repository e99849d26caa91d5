import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.hookflow/', 'coverage/', 'dist/', 'packages/*/dist/', 'packages/client/src/openapi.ts' /* generated */] },
  js.configs.recommended,
  // Type-aware: a promise nobody awaits is a lost delivery (a dropped startChild, an unawaited insert),
  // and only the type checker can tell an expression is a promise.
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }, globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', AbortSignal: 'readonly', Headers: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Both come with recommendedTypeChecked; named here because they are the reason it is on.
      // Fire-and-forget is written `void promise` with a comment saying why it is safe.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // Plain JavaScript (this file, bin/, .ci/) is outside tsconfig.json: linted without type information.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Workflow code is replayed and must stay deterministic: no Node built-ins, no I/O, and only
    // types from activities/ and src/ (samples-typescript applies the same rule to its workflows).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'http', 'https', 'net', 'crypto', 'child_process', 'pg', 'undici', 'express'], message: 'Workflow code must be deterministic: no Node built-ins or I/O libraries.' },
          { group: ['../src/*', '../src', '../activities/*'], allowTypeImports: true, message: 'Workflows may import only types from src/ and activities/.' },
          { group: ['../activities'], allowTypeImports: true, message: 'Workflows may import only types from activities/.' },
        ],
      }],
    },
  },
  {
    // React event handlers may be async (typescript-eslint's advice for JSX attributes); promises passed
    // anywhere else must still be handled.
    files: ['src/portal/**/*.tsx'],
    rules: { '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }] },
  },
  {
    // Shared webhook code (signing, the envelope, the address guard, the POST) lives in src/webhooks/;
    // the API and the CLI never reach into activities/. Only the worker registers the activities.
    files: ['src/**/*.ts'],
    ignores: ['src/temporal/worker.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/activities', '**/activities/*'], allowTypeImports: true, message: 'src/ may not import activities/: shared webhook code belongs in src/webhooks/.' }],
      }],
    },
  },
  {
    // src/config.ts is the one reader of the environment: everything else gets a typed config.
    files: ['src/**/*.ts', 'activities/**/*.ts', 'workflows/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read settings through src/config.ts (loadConfig), which parses and checks them once.' }],
    },
  },
  {
    // Tests read JSON responses typed `any` (test/support/stack.ts ApiResponse) and assert on their shape;
    // the promise rules above still hold there.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
