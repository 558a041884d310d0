import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

/** The arguments of every `signalName` signal received by the first run of a workflow id. */
export async function signalsToFirstRun(client: Client, workflowId: string, signalName: string): Promise<unknown[][]> {
  const runs: Array<{ runId: string; startTime: Date }> = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(execution);
  const first = runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[0];
  if (!first) throw new Error(`no run of ${workflowId}`);
  const history = await client.workflow.getHandle(workflowId, first.runId).fetchHistory();
  return (history.events ?? [])
    .filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === signalName)
    .map((event) => (event.workflowExecutionSignaledEventAttributes!.input?.payloads ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload)));
}
