import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { PurgeCounts } from '../src/db/retention';
import { deliverySearchAttributes, deliveryWorkflowId, fanoutWorkflowId, messageSearchAttributes } from './ids';
import type { DeliveryWorkflowInput, FanoutWorkflowInput, MessageWorkflowInput, RecoverWorkflowInput } from './types';

/**
 * Endpoints fanned out per run. Each child costs the parent ~3 history events, so a page of 500 stays far
 * below Temporal's 2,000 pending children and 51,200 events; larger fan-outs continue as new per page.
 */
export const FANOUT_PAGE_SIZE = 500;

/** A rate-limited delivery whose slot is further off than this sleeps on a workflow timer first. */
const SLOT_TIMER_THRESHOLD_MS = 4_000;

// Bookkeeping against our own Postgres: retried until it works, so a database outage delays
// deliveries but never drops one.
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

// Short Postgres reads and writes the workflow needs before it can go on: local activities, run by the
// worker that runs the workflow task, so the server schedules and records no activity task for them
// (BENCHMARKS.md: a quarter to a third off an unloaded delivery's latency). Retried like bookkeeping.
const planning = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * Deliveries one workflow run starts itself. The server records every child start in its parent, one
 * after the other: one parent starts about ten children a second on a small machine (BENCHMARKS.md),
 * so a bigger page is cut into slices, each started by a `fanoutWorkflow` of its own, side by side.
 */
export const FANOUT_SLICE_SIZE = 50;

/**
 * One message: find the endpoints it goes to and start one delivery workflow each. The children are
 * abandoned, not awaited: each carries its own retries for up to a day, and the message is done once
 * every delivery (or every slice of a large fan-out) has durably started.
 */
export async function messageWorkflow(input: MessageWorkflowInput): Promise<{ endpoints: number }> {
  const page = await planning.resolveEndpoints(input);
  const { messageId, tenantId, eventType } = input;
  if (page.endpointIds.length <= FANOUT_SLICE_SIZE) {
    await startDeliveries({ messageId, tenantId, eventType, endpointIds: page.endpointIds });
  } else {
    await Promise.all(
      slices(page.endpointIds, FANOUT_SLICE_SIZE).map((endpointIds) =>
        startOnce(
          startChild(fanoutWorkflow, {
            args: [{ messageId, tenantId, eventType, endpointIds }],
            workflowId: fanoutWorkflowId(messageId, endpointIds[0] ?? ''),
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            typedSearchAttributes: messageSearchAttributes(input),
          }),
        ),
      ),
    );
  }
  if (page.nextAfterSeq) {
    await continueAsNew<typeof messageWorkflow>({ ...input, afterSeq: page.nextAfterSeq });
  }
  return { endpoints: page.endpointIds.length };
}

/** Starts the delivery workflows of one slice of a message's endpoints (at most FANOUT_SLICE_SIZE). */
export async function fanoutWorkflow(input: FanoutWorkflowInput): Promise<{ endpoints: number }> {
  await startDeliveries(input);
  return { endpoints: input.endpointIds.length };
}

async function startDeliveries({ endpointIds, ...message }: FanoutWorkflowInput): Promise<void> {
  await Promise.all(
    endpointIds.map((endpointId) => startDelivery({ ...message, endpointId }, WorkflowIdReusePolicy.REJECT_DUPLICATE)),
  );
}

function slices<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function startDelivery(d: DeliveryWorkflowInput, workflowIdReusePolicy: WorkflowIdReusePolicy): Promise<void> {
  return startOnce(
    startChild(deliveryWorkflow, {
      args: [d],
      workflowId: deliveryWorkflowId(d.messageId, d.endpointId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy,
      typedSearchAttributes: deliverySearchAttributes(d),
    }),
  );
}

/** Waits for a child's start; one that an earlier run of this workflow started (an operator reset it) stands. */
async function startOnce(start: Promise<unknown>): Promise<void> {
  try {
    await start;
  } catch (err) {
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
  let slotAt: number | undefined;
  if (plan.rateLimitPerSecond) {
    // Over the endpoint's rate limit the delivery waits for its slot: far ones on a durable timer, the
    // last stretch in the activity, because Temporal's timers are only about a second precise.
    slotAt = await planning.reserveSlot({ endpointId: input.endpointId });
    const lead = (slotAt ?? 0) - Date.now();
    if (lead > SLOT_TIMER_THRESHOLD_MS) await sleep(lead - SLOT_TIMER_THRESHOLD_MS / 2);
  }
  try {
    await deliver({ messageId: input.messageId, endpointId: input.endpointId, plan, slotAt });
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

export type RetentionWorkflowInput = {
  /** RETENTION, as the worker that created the schedule read it. */
  retentionMs: number;
  /** Set by continue-as-new: one cutoff for the whole purge, and what was purged so far. */
  before?: string;
  purged?: PurgeCounts;
};

/** Purge batches per run; each costs ~3 history events, so a run stays small before continuing as new. */
export const RETENTION_BATCHES_PER_RUN = 200;

// A batch deletes up to 1,000 messages and their children, a statement at a time; a database outage
// only delays the purge, and the schedule skips its next run while this one still works.
const housekeeping = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * Started by the `<task queue>-retention` Schedule every RETENTION_INTERVAL: deletes messages older
 * than RETENTION, with their deliveries and attempts, oldest first, one bounded batch per activity.
 */
export async function retentionWorkflow(input: RetentionWorkflowInput): Promise<PurgeCounts> {
  // Workflow time is replay-safe; the cutoff is fixed once so every batch and run agrees on it.
  const before = input.before ?? new Date(Date.now() - input.retentionMs).toISOString();
  const purged = { ...(input.purged ?? { messages: 0, deliveries: 0, attempts: 0 }) };
  for (let batch = 0; batch < RETENTION_BATCHES_PER_RUN; batch += 1) {
    const result = await housekeeping.purgeExpiredMessages({ before });
    purged.messages += result.messages;
    purged.deliveries += result.deliveries;
    purged.attempts += result.attempts;
    if (!result.more) return purged;
  }
  return continueAsNew<typeof retentionWorkflow>({ ...input, before, purged });
}
