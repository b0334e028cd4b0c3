// Lint rules. The workflow block is the important one: Temporal replays workflow code, so it
// must not reach Node built-ins, I/O, the wall clock or randomness (the SDK makes Date and
// Math.random deterministic, but we keep them out so intent is explicit: use workflow time).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'http',
  'https',
  'net',
  'crypto',
  'child_process',
  'process',
  'url',
  'stream',
  'events',
  'util',
  'worker_threads',
  'dns',
  'tls',
  'zlib',
  'timers',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Tests read JSON bodies whose shapes the assertions check.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['workflows/**/*.ts', 'billing/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins
              .flatMap((m) => [m, `node:${m}`])
              .map((name) => ({
                name,
                message: 'Workflow and billing code must stay deterministic: no Node built-ins.',
              })),
            { name: 'postgres', message: 'No I/O in workflow or billing code: use an activity.' },
            { name: 'stripe', message: 'No I/O in workflow or billing code: use an activity.' },
            {
              name: '@temporalio/client',
              message: 'Workflows talk to Temporal through @temporalio/workflow.',
            },
            {
              name: '@temporalio/activity',
              message: 'Workflows import activities as types only.',
              allowTypeImports: true,
            },
          ],
          patterns: [
            {
              group: ['../activities/*', '../api/*', '../db/*', '../worker/*'],
              allowTypeImports: true,
              message: 'Workflow and billing code may import other layers as types only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'process',
        'setTimeout',
        'setInterval',
        'fetch',
        'require',
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='Date'][property.name='now']",
          message: 'Use workflow time passed in state or from the SDK, not Date.now().',
        },
        {
          selector: "MemberExpression[object.name='Math'][property.name='random']",
          message: 'Randomness breaks replay: use uuid4() from @temporalio/workflow.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Do not read the clock in workflow code.',
        },
      ],
    },
  },
);
