// Not a workflow: the workflow interceptors every bundle carries (worker/build-bundle.ts, lib/tracing.ts).
import type { Payload } from '@temporalio/common';
import type { ActivityInput, LocalActivityInput, Next, WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

/** The header Temporal's OpenTelemetry interceptors carry a W3C trace context in (TRACE_HEADER there). */
export const TRACE_HEADER = '_tracer-data';

/**
 * Carries the trace of whoever last reached the workflow (its start, a signal, an update) on to
 * the activities it schedules next, so a Save click and the sync cycle it starts are one trace.
 * Unlike the SDK's own workflow interceptors this makes no spans inside the workflow: those draw
 * span ids from the workflow's seeded Math.random, and in update validators and query handlers,
 * which do not run again on replay, that shifts every uuid4() after them (temporalio/sdk-typescript
 * issue 2023). Copying a header from history is deterministic; the context is the message's own.
 */
class TraceContext implements WorkflowInboundCallsInterceptor, WorkflowOutboundCallsInterceptor {
  private current: Payload | undefined;

  private remember(headers: Record<string, Payload>): void {
    const carried = headers[TRACE_HEADER];
    if (carried) this.current = carried;
  }

  private carry<T extends ActivityInput | LocalActivityInput>(input: T): T {
    return this.current === undefined || input.headers[TRACE_HEADER] ? input : { ...input, headers: { ...input.headers, [TRACE_HEADER]: this.current } };
  }

  execute: WorkflowInboundCallsInterceptor['execute'] = (input, next) => (this.remember(input.headers), next(input));
  handleSignal: WorkflowInboundCallsInterceptor['handleSignal'] = (input, next) => (this.remember(input.headers), next(input));
  handleUpdate: WorkflowInboundCallsInterceptor['handleUpdate'] = (input, next) => (this.remember(input.headers), next(input));

  scheduleActivity = (input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) => next(this.carry(input));
  scheduleLocalActivity = (input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) => next(this.carry(input));
}

export const interceptors = (): WorkflowInterceptors => {
  const context = new TraceContext();
  return { inbound: [context], outbound: [context] };
};
