import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code is replayed; Node built-ins would make it nondeterministic. builtinModules lists
// them by bare name; the ^node: pattern below takes every prefixed one, including those that exist
// only with the prefix (node:test, node:sqlite).
const BUILTIN_MESSAGE = 'Node built-ins would make replayed workflow code nondeterministic.';
const nodeBuiltins = builtinModules.map((name) => ({ name, message: BUILTIN_MESSAGE }));

// import.meta.dirname needs Node 20.11; package.json allows any Node 20.
const ROOT = fileURLToPath(new URL('.', import.meta.url));

export default tseslint.config(
  { ignores: ['node_modules', 'dist', '.tools', '.state', 'bin'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // A promise nobody awaits loses its rejection (and, in a workflow, may outlive the step that
    // needed it). The rule needs types, so it reads the project's tsconfig.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: ROOT } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/test/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'suite', 'test', 'it'] },
          ],
        },
      ],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins,
          patterns: [
            { regex: '^node:', message: BUILTIN_MESSAGE },
            {
              group: ['**/providers/**', '**/router/**', '**/client/**', '**/worker/**', '**/demo/**'],
              message: 'Workflows import only spec/, analysis/ and types from activities/.',
            },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
);
