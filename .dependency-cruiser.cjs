/* global module */
// Layer rules as code (`npm run check` runs them; test/unit/dependency-rules.test.ts shows they
// bite). Type-only imports count: a cycle through `import type` still ties two layers together.
//
// LAYERS runs from the bottom up. A folder may import its own layer and the layers listed before
// it, never one after it. Folders on one line are one layer and may not import each other.
// test/ is outside the rules (it may import anything; nothing imports it but the history recorder).
const LAYERS = [
  ['billing'], // pure rules: nothing of ours
  ['workflows'], // workflow code and its contract: billing only
  ['lib'], // config, ids, logger, ports
  ['db'], // queries and migrations
  ['tools'], // external tools: finding, building, provisioning
  ['temporal'], // the one seam to Temporal from outside workflow code
  ['collection'], // presenting issued requests to a collector (manual, Stripe)
  ['services', 'activities'], // domain operations; activity functions (never each other)
  ['background'], // long-running loops: usage dispatch, sweepers, the presenter
  ['api', 'worker'], // HTTP; the worker process
  ['scripts', 'bench'], // entry points and benchmarks: nothing imports them
];

const folders = (layers) => layers.flat().join('|');
const below = (i) => LAYERS.slice(0, i).flat().join(', ');

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'An import cycle: split the shared piece into a lower module.',
    from: {},
    to: { circular: true },
  },
];

LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(i + 1);
  for (const folder of layer) {
    const siblings = layer.filter((f) => f !== folder);
    const targets = [...above.flat(), ...siblings];
    if (targets.length === 0) continue;
    forbidden.push({
      name: `${folder}-not-upward`,
      severity: 'error',
      comment: `${folder}/ may import ${below(i) ? `only ${below(i)} and itself` : 'nothing of ours but itself'}.`,
      from: { path: `^${folder}/` },
      to: { path: `^(${targets.join('|')})/` },
    });
  }
});

forbidden.push({
  name: 'nothing-imports-entry-points',
  severity: 'error',
  comment: 'scripts/ and bench/ are entry points: only test/ may import them.',
  from: { pathNot: '^(scripts|bench|test)/' },
  to: { path: '^(scripts|bench)/' },
});

forbidden.push({
  name: 'only-temporal-calls-temporal',
  severity: 'error',
  comment:
    'Starts, signals, updates and queries go through temporal/ (the one seam); elsewhere the ' +
    'Temporal client is passed around as a type. bench/ measures Temporal itself, and tools/ ' +
    'runs a workflow on the test server to record its startup archive.',
  from: { pathNot: '^(temporal|tools|bench|test)/' },
  to: { path: '^node_modules/@temporalio/client/', dependencyTypesNot: ['type-only'] },
});

module.exports = {
  forbidden,

  options: {
    doNotFollow: { path: 'node_modules' },
    // Our own code only; test/ may import anything, so it is not cruised.
    includeOnly: `^(${folders(LAYERS)})/|^node_modules/@temporalio/client/`,
    exclude: { path: '^(\\.data|coverage|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
