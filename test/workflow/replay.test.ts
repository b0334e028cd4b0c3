/**
 * Replays every recorded history in test/workflow/histories/ against the current workflow
 * bundle. A change to workflow code that running workflows could not replay (a new activity in
 * the middle, a reordered timer, a removed handler) fails here, before it reaches a worker.
 * Fixtures are recorded by `npm run histories:record` (scripts/record-histories.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';
import { loadFixtures } from './history-fixtures';

const workflowsDir = new URL('../../workflows/', import.meta.url);

/**
 * The ids of every `patched(...)` / `deprecatePatch(...)` call in the workflow code; a call
 * whose id is not a string literal fails (this test could not check it).
 */
async function patchIdsInCode(): Promise<string[]> {
  const ids = new Set<string>();
  for (const file of await readdir(workflowsDir, { recursive: true })) {
    if (!file.endsWith('.ts')) continue;
    const code = await readFile(new URL(file, workflowsDir), 'utf8');
    for (const m of code.matchAll(/\b(?:patched|deprecatePatch)\(([^)]*)\)/g)) {
      const literal = /^\s*(['"])([^'"]+)\1\s*$/.exec(m[1]!);
      if (!literal) throw new Error(`${file}: patch id ${m[1]} is not a string literal`);
      ids.add(literal[2]!);
    }
  }
  return [...ids].sort();
}

describe('replay of recorded histories', () => {
  it('every fixture replays deterministically with the current workflow code', async () => {
    const fixtures = await loadFixtures();
    // Both workflow types, several runs of continue-as-new chains.
    expect(fixtures.length).toBeGreaterThanOrEqual(10);
    expect(fixtures.some((f) => f.workflowId.startsWith('webhook-'))).toBe(true);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      fixtures,
    )) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(fixtures.length);
  });

  it('every patch in the workflow code has a fixture that took its new branch', async () => {
    // A patch's marker is recorded when the patched branch runs: without such a fixture, a later
    // change to that branch could break running workflows and no replay would notice.
    const recorded = new Set<string>();
    for (const { history } of await loadFixtures())
      for (const e of history.events ?? []) {
        const marker = e.markerRecordedEventAttributes;
        if (marker?.markerName !== 'core_patch') continue;
        for (const p of marker.details?.['patch-data']?.payloads ?? [])
          recorded.add((JSON.parse(Buffer.from(p.data!).toString('utf8')) as { id: string }).id);
      }
    const inCode = await patchIdsInCode();
    expect(inCode).toContain('rate-decided-at');
    expect(inCode.filter((id) => !recorded.has(id))).toEqual([]);
  });
});
