import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { deliverySearchAttributes, deliveryWorkflowId } from './ids';
import type { DeliveryWorkflowInput, MessageWorkflowInput, RecoverWorkflowInput } from './types';

/**
 * Endpoints fanned out per run. Each child costs the parent ~3 history events, so a page of 500 stays far
 * below Temporal's 2,000 pending children and 51,200 events; larger fan-outs continue as new per page.
 */
export const FANOUT_PAGE_SIZE = 500;

// Bookkeeping against our own Postgres: retried until it works, so a database outage delays
// deliveries but never drops one.
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const planning = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * One message: find the endpoints it goes to and start one delivery workflow each. The children are
 * abandoned, not awaited: each carries its own retries for up to a day, and the message is done once
 * every delivery has durably started.
 */
export async function messageWorkflow(input: MessageWorkflowInput): Promise<{ endpoints: number }> {
  const page = await bookkeeping.resolveEndpoints(input);
  await Promise.all(
    page.endpointIds.map((endpointId) => startDelivery({ ...input, endpointId }, WorkflowIdReusePolicy.REJECT_DUPLICATE)),
  );
  if (page.nextAfterSeq) {
    await continueAsNew<typeof messageWorkflow>({ ...input, afterSeq: page.nextAfterSeq });
  }
  return { endpoints: page.endpointIds.length };
}

async function startDelivery(d: DeliveryWorkflowInput, workflowIdReusePolicy: WorkflowIdReusePolicy): Promise<void> {
  try {
    await startChild(deliveryWorkflow, {
      args: [d],
      workflowId: deliveryWorkflowId(d.messageId, d.endpointId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy,
      typedSearchAttributes: deliverySearchAttributes(d),
    });
  } catch (err) {
    // Already started by an earlier run of this message (an operator reset it): that delivery stands.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * One message to one endpoint. The activity does one signed POST per attempt; its retry policy is the
 * delivery's backoff and expiry, so the Temporal UI shows the attempt count and the last failure.
 * A delivery that ends without a 2xx fails the workflow, which is what bulk replay queries select.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<{ status: 'succeeded' }> {
  const plan = await planning.planDelivery({ endpointId: input.endpointId });
  const { deliver } = proxyActivities<Activities>({
    startToCloseTimeout: plan.startToCloseMs,
    scheduleToCloseTimeout: plan.scheduleToCloseMs,
    retry: {
      initialInterval: plan.initialIntervalMs,
      backoffCoefficient: plan.backoffCoefficient,
      maximumInterval: plan.maximumIntervalMs,
      maximumAttempts: plan.maximumAttempts > 0 ? plan.maximumAttempts : undefined,
    },
  });
  try {
    await deliver({ messageId: input.messageId, endpointId: input.endpointId, plan });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    await bookkeeping.finishDelivery({ messageId: input.messageId, endpointId: input.endpointId, status: 'failed' });
    throw ApplicationFailure.create({
      type: 'DeliveryFailed',
      message: `delivery of ${input.messageId} to ${input.endpointId} failed (run ${workflowInfo().runId})`,
      cause: err,
      nonRetryable: true,
    });
  }
  return { status: 'succeeded' };
}

/**
 * `POST /endpoints/:id/recover`: every delivery to the endpoint that failed in the window gets a new run
 * of its delivery workflow. Pages through Postgres and continues as new, so a recovery of thousands
 * of messages is paced by Temporal, not started all at once from the API.
 */
export async function recoverWorkflow(input: RecoverWorkflowInput): Promise<{ redelivered: number }> {
  const page = await bookkeeping.recoverPage(input);
  await Promise.all(
    page.map((d) =>
      startDelivery(
        { messageId: d.messageId, endpointId: input.endpointId, tenantId: d.tenantId, eventType: d.eventType },
        WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      ),
    ),
  );
  const last = page[page.length - 1];
  if (last && page.length >= FANOUT_PAGE_SIZE) {
    await continueAsNew<typeof recoverWorkflow>({ ...input, after: { updatedAt: last.updatedAt, messageId: last.messageId } });
  }
  return { redelivered: page.length };
}
