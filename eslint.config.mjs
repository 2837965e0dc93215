// Lint (run by `npm test` next to the type check): typescript-eslint's recommended rules over
// the TypeScript sources, tests and scripts. Build output and dependencies are not linted.
import js from '@eslint/js';
import prettierConfig from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', '.vscode-test/**', 'test-results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // tsc's noUnusedLocals/noUnusedParameters report these; a leading _ marks an intended unused.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `import x = require('…')` is TypeScript's typed CommonJS import (mocha's reporters need it);
      // a stage's descriptor requires its runner when the stage runs (src/engine/stages/definition.ts);
      // modules the extension host needs only later are required on first use (activation time).
      '@typescript-eslint/no-require-imports': [
        'error',
        { allowAsImport: true, allow: ['^\\./(runner|toy\\w*Runner)$', '^hdr-histogram-js$'] },
      ],
    },
  },
  {
    // Tests and benchmarks read untyped JSON (swagger, report files) where `any` is the honest type.
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Layout is Prettier's (`npm run format`, checked by `npm test`): no lint rule may disagree with it.
  prettierConfig,
);
