// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: it may not touch Node built-ins or
// any module that does I/O. Types are fine (they vanish at build time), values are not.
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);
const ioLayers = ['activities', 'db', 'web', 'worker', 'emulator', 'dev', 'lib'].flatMap((dir) => [
  `../${dir}/*`,
  `../../${dir}/*`,
  `../../../${dir}/*`,
]);

export default tseslint.config(
  { ignores: ['node_modules/', 'scratch/', 'dist/', '.data/', '.tools/', 'test-results/', 'web/public/vendor/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'object-shorthand': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows run in a sandbox without Node built-ins.' })),
          patterns: [
            {
              group: ioLayers,
              allowTypeImports: true,
              message: 'Workflows may import only types from I/O layers; call activities through proxyActivities.',
            },
          ],
        },
      ],
    },
  },
  {
    // vitest's asymmetric matchers are typed any by design, and tests read JSON answers as any
    // on purpose: the assertions, not the types, check their shape.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Kysely's own advice: migrations take Kysely<any>, since they must not depend on today's schema.
    files: ['db/migrations/*.ts', 'db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['web/public/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
);
