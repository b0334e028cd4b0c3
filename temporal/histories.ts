/** Reading recorded workflow histories (the replay fixtures are recorded with this). */
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';

/** The history of each run of a workflow, first run first, following its continue-as-new chain. */
export async function* runHistories(client: Client, workflowId: string): AsyncGenerator<History> {
  const description = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = description.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    yield history;
    const last = history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
}
