/** The lint rule that keeps workflow code deterministic actually fires. */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function lint(code: string, filePath: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => m.ruleId);
}

describe('workflow determinism lint', () => {
  it.each([
    [
      "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;",
      'no-restricted-imports',
    ],
    ["import postgres from 'postgres';\nexport const x = postgres;", 'no-restricted-imports'],
    ['export const x = Date.now();', 'no-restricted-syntax'],
    ['export const x = Math.random();', 'no-restricted-syntax'],
    ['export const x = new Date();', 'no-restricted-syntax'],
    ['export const x = process.env.X;', 'no-restricted-globals'],
    ['export const x = setTimeout(() => {}, 1);', 'no-restricted-globals'],
  ])('rejects %s in workflows/', async (code, rule) => {
    expect(await lint(code, 'workflows/example.ts')).toContain(rule);
    expect(await lint(code, 'billing/example.ts')).toContain(rule);
  });

  it('allows the same code outside workflows and billing', async () => {
    expect(await lint('export const x = Date.now();', 'activities/example.ts')).toEqual([]);
  });

  it.each([
    "import type { Activities } from '../activities';\nexport type A = Activities;",
    "import type { CommitInput } from '../activities/subscription';\nexport type A = CommitInput;",
    "import { createActivities } from '../activities';\nexport const a = createActivities;",
    "import type { Sql } from '../db/client';\nexport type A = Sql;",
    "import { loadConfig } from '../lib/config';\nexport const a = loadConfig;",
  ])('rejects %s in workflows/, types included', async (code) => {
    expect(await lint(code, 'workflows/example.ts')).toContain('no-restricted-imports');
    expect(await lint(code, 'billing/example.ts')).toContain('no-restricted-imports');
  });

  it('lets workflows import billing/ and the contract; billing imports no workflow code', async () => {
    const contract =
      "import type { CommitInput } from './activity-contract';\nimport { periodOf } from '../billing/subscription';\nexport type A = CommitInput;\nexport const p = periodOf;";
    expect(await lint(contract, 'workflows/example.ts')).toEqual([]);
    const upward =
      "import type { SubscriptionView } from '../workflows/definitions';\nexport type A = SubscriptionView;";
    expect(await lint(upward, 'billing/example.ts')).toContain('no-restricted-imports');
  });
});
