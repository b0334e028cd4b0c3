// Lint rules. The workflow blocks are the important ones: Temporal replays workflow code, so it
// must not reach Node built-ins, I/O, the wall clock or randomness (the SDK makes Date and
// Math.random deterministic, but we keep them out so intent is explicit: use workflow time).
// They also hold the two lowest layers in place: workflows/ import only billing/ and workflows/
// (not even a type from activities/), billing/ only billing/.
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

/** Imports Node built-ins, I/O and the client side of Temporal, refused in workflow and billing code. */
const deterministicPaths = [
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
];

/** Every folder of ours but billing/ and workflows/ (the layers above them, and the rest). */
const outsideWorkflows = [
  'activities',
  'api',
  'background',
  'bench',
  'collection',
  'db',
  'lib',
  'scripts',
  'services',
  'temporal',
  'test',
  'tools',
  'worker',
];

/** Import specifiers that reach `folders` from a file one or two levels down. */
const importsOf = (folders) =>
  folders.flatMap((f) => [`../${f}`, `../${f}/*`, `../../${f}`, `../../${f}/*`]);

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
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: deterministicPaths,
          patterns: [
            {
              group: importsOf(outsideWorkflows),
              message:
                'Workflow code imports only billing/ and workflows/, types included: the activities it calls are declared in workflows/activity-contract.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['billing/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: deterministicPaths,
          patterns: [
            {
              group: importsOf([...outsideWorkflows, 'workflows']),
              message: 'Billing rules import nothing of ours outside billing/, types included.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts', 'billing/**/*.ts'],
    rules: {
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
