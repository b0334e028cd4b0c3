/**
 * The layer rules of .dependency-cruiser.cjs (run by `npm run check`) hold for the code, and they
 * bite: a cycle, a type-only cycle, an upward import and an import of an entry point, each made
 * in a scratch tree laid out like ours, are reported by the same rule set.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type IForbiddenRuleType } from 'dependency-cruiser';
import { afterEach, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const config = require('../../.dependency-cruiser.cjs') as {
  forbidden: IForbiddenRuleType[];
  options: { includeOnly: string; enhancedResolveOptions: Record<string, unknown> };
};

async function violations(baseDir: string, paths: string[]): Promise<string[]> {
  const result = await cruise(
    paths,
    {
      validate: true,
      ruleSet: { forbidden: config.forbidden },
      includeOnly: config.options.includeOnly,
      doNotFollow: { path: 'node_modules' },
      tsPreCompilationDeps: true,
      baseDir,
    },
    // The scratch tree's node_modules is a link to ours: keep its path as the link's.
    { ...config.options.enhancedResolveOptions, symlinks: false },
  );
  if (typeof result.output === 'string') throw new Error('expected a cruise result object');
  return result.output.summary.violations.map(
    (v) => `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle of ${v.cycle.length})` : ''}`,
  );
}

let scratch: string | null = null;
afterEach(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
  scratch = null;
});

/** A scratch tree laid out like the repo: `files` maps a path to its source. */
async function tree(files: Record<string, string>): Promise<string> {
  scratch = await mkdtemp(join(tmpdir(), 'tally-deps-'));
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(scratch, path)), { recursive: true });
    await writeFile(join(scratch, path), source);
  }
  return scratch;
}

describe('dependency rules', () => {
  it('hold for the code: no cycles, no upward imports', async () => {
    const root = join(import.meta.dirname, '../..');
    expect(await violations(root, ['.'])).toEqual([]);
  }, 60_000);

  it('report an import cycle inside one layer', async () => {
    const dir = await tree({
      'services/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
      'services/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
    });
    expect(await violations(dir, ['services'])).toEqual([
      'no-circular: services/a.ts -> services/b.ts (cycle of 2)',
    ]);
  });

  it('report a cycle made only of type imports', async () => {
    const dir = await tree({
      'db/a.ts': "import type { B } from './b';\nexport type A = { b?: B };\n",
      'db/b.ts': "import type { A } from './a';\nexport type B = { a?: A };\n",
    });
    expect(await violations(dir, ['db'])).toEqual(['no-circular: db/a.ts -> db/b.ts (cycle of 2)']);
  });

  it('report an import that runs up the layers, and one across a layer', async () => {
    const dir = await tree({
      'billing/rule.ts': "import { rows } from '../db/rows';\nexport const rule = rows;\n",
      'db/rows.ts': 'export const rows = 1;\n',
      'workflows/flow.ts': "import type { X } from '../activities/x';\nexport type F = X;\n",
      'activities/x.ts': "import { s } from '../services/s';\nexport type X = typeof s;\n",
      'services/s.ts': 'export const s = 1;\n',
    });
    expect(await violations(dir, ['billing', 'workflows', 'activities'])).toEqual([
      'activities-not-upward: activities/x.ts -> services/s.ts',
      'billing-not-upward: billing/rule.ts -> db/rows.ts',
      'workflows-not-upward: workflows/flow.ts -> activities/x.ts',
    ]);
  });

  it('report a run-time import of the Temporal client outside temporal/, not a type import', async () => {
    const dir = await tree({
      'services/calls.ts':
        "import { WorkflowNotFoundError } from '@temporalio/client';\nexport const e = WorkflowNotFoundError;\n",
      'services/passes.ts':
        "import type { Client } from '@temporalio/client';\nexport type C = Client;\n",
      'temporal/seam.ts':
        "import { WorkflowNotFoundError } from '@temporalio/client';\nexport const e = WorkflowNotFoundError;\n",
    });
    await symlink(join(import.meta.dirname, '../../node_modules'), join(dir, 'node_modules'));
    const found = await violations(dir, ['services', 'temporal']);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^only-temporal-calls-temporal: services\/calls\.ts -> node_modules\/@temporalio\/client\//,
    );
  });

  it('report an import of an entry point', async () => {
    const dir = await tree({
      'api/app.ts': "import { go } from '../scripts/go';\nexport const app = go;\n",
      'scripts/go.ts': 'export const go = 1;\n',
      'test/uses.ts': "import { go } from '../scripts/go';\nexport const t = go;\n",
    });
    const found = await violations(dir, ['api', 'test']);
    expect(found).toContain('nothing-imports-entry-points: api/app.ts -> scripts/go.ts');
    expect(found.some((v) => v.includes('test/uses.ts'))).toBe(false);
  });
});
