/**
 * Replays every recorded history in test/workflow/histories/ against the current workflow
 * bundle. A change to workflow code that running workflows could not replay (a new activity in
 * the middle, a reordered timer, a removed handler) fails here, before it reaches a worker.
 * Fixtures are recorded by `npm run histories:record` (scripts/record-histories.ts).
 */
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';
import { loadFixtures } from './history-fixtures';

describe('replay of recorded histories', () => {
  it('every fixture replays deterministically with the current workflow code', async () => {
    const fixtures = await loadFixtures();
    // Both workflow types, several runs of continue-as-new chains.
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
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
});
