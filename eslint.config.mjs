import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'https', 'net', 'os', 'path', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util',
  'worker_threads', 'zlib',
];

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
    // Workflow code is replayed; Node built-ins would make it nondeterministic.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [name, `node:${name}`]),
          patterns: [
            { group: ['**/providers/**', '**/router/**', '**/client/**', '**/worker/**', '**/demo/**'], message: 'Workflows import only spec/, analysis/ and types from activities/.' },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
);
