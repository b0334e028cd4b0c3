/**
 * The bench's baseline: the least a renewal can cost on Temporal, one timer to the boundary and
 * one activity that inserts a row. bench/renewals.ts compares the subscription workflow to it.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';

const { insertBaselineRow } = proxyActivities<{
  insertBaselineRow(id: string): Promise<void>;
}>({ startToCloseTimeout: '20 seconds' });

export async function baselineRenewalWorkflow(id: string, atMs: number): Promise<void> {
  // Date.now() in a workflow is the SDK's deterministic workflow clock.
  await sleep(Math.max(1, atMs - Date.now()));
  await insertBaselineRow(id);
}
