import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  TimeoutFailure,
  WorkflowIdReusePolicy,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type { PurgeCounts } from '../src/db/retention';
import {
  deliverySearchAttributes, deliveryWorkflowId, fanoutWorkflowId, messageSearchAttributes, redeliverySliceWorkflowId,
} from './ids';
import { FANOUT_PAGE_SIZE } from './types';
import type {
  DeliveryPlan, DeliveryWorkflowInput, FanoutWorkflowInput, FirstAttemptResult, MessageWorkflowInput, RecoverWorkflowInput,
  RedeliverWorkflowInput, RunClaim,
} from './types';

/**
 * Workflow version 2 (one marker per run, in every workflow it changed): a delivery's first attempt runs
 * inline in its workflow's first task and claims the delivery's row for the run; local activities are
 * bounded and fall back to ordinary activities; recoveries and redeliveries start in slices. Runs that
 * began under version 1 replay the version-1 code below, unchanged (test/histories/ holds their histories).
 */
const V2 = 'hookflow-v2';

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
// (BENCHMARKS.md: a quarter to a third off an unloaded delivery's latency). Version 1 retried them forever.
const planningV1 = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

// Version 2 bounds them: a local activity that has not worked within a minute (Postgres down, say) gives
// way to the same function as an ordinary activity, retried until it works and visible in the UI.
const planning = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});

// The first attempt POSTs within DELIVERY_TIMEOUT (at most 5 minutes, src/config.ts) after waiting at
// most MAX_SLOT_WAIT_MS for a rate-limit slot; the bounds leave room for the database work around it.
const inline = proxyLocalActivities<Activities>({
  startToCloseTimeout: '6m',
  scheduleToCloseTimeout: '8m',
  retry: { initialInterval: '1s', maximumInterval: '10s' },
});
const inlineFallback = proxyActivities<Activities>({
  startToCloseTimeout: '6m',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** A bounded local activity, then, if it did not work, the ordinary activity of the same name. */
async function locallyFirst<A, R>(local: (a: A) => Promise<R>, durable: (a: A) => Promise<R>, arg: A): Promise<R> {
  try {
    return await local(arg);
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('local activity did not complete; running it as an ordinary activity', { error: err.message });
    return durable(arg);
  }
}

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
  const page = patched(V2)
    ? await locallyFirst(planning.resolveEndpoints, bookkeeping.resolveEndpoints, input)
    : await planningV1.resolveEndpoints(input);
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

/**
 * Starts the delivery workflows of one slice (at most FANOUT_SLICE_SIZE): of a message's endpoints, or,
 * with `redeliver`, new runs of deliveries that ran before (a recovery, a redelivery to all).
 */
export async function fanoutWorkflow(input: FanoutWorkflowInput): Promise<{ endpoints: number }> {
  if (input.redeliver && input.deliveries) {
    await Promise.all(input.deliveries.map((d) => startRedelivery(d)));
    return { endpoints: input.deliveries.length };
  }
  await startDeliveries(input);
  return { endpoints: input.endpointIds.length };
}

/** How long a redelivery waits for the delivery's previous run to close before it gives that one up. */
const PREVIOUS_RUN_WAIT_S = 60;

/**
 * A new run of a delivery that ran before. Its previous run may still be closing (it records its end just
 * before it closes), so a start refused for that is tried again each second for a minute.
 */
async function startRedelivery(d: DeliveryWorkflowInput): Promise<void> {
  for (let waited = 0; ; waited += 1) {
    try {
      await startDelivery(d, WorkflowIdReusePolicy.ALLOW_DUPLICATE, { tolerateRunning: false });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      if (waited >= PREVIOUS_RUN_WAIT_S) {
        log.warn('delivery still running after a minute: left to its own run', { messageId: d.messageId, endpointId: d.endpointId });
        return;
      }
      await sleep('1s');
    }
  }
}

/** Starts slices of redeliveries side by side, each a fanoutWorkflow named after the starter's run. */
async function startRedeliverySlices(deliveries: DeliveryWorkflowInput[]): Promise<void> {
  const { runId } = workflowInfo();
  await Promise.all(
    slices(deliveries, FANOUT_SLICE_SIZE).map((slice) => {
      const first = slice[0]!;
      return startOnce(
        startChild(fanoutWorkflow, {
          args: [{ messageId: first.messageId, tenantId: first.tenantId, eventType: first.eventType, endpointIds: [], deliveries: slice, redeliver: true }],
          workflowId: redeliverySliceWorkflowId(first.messageId, first.endpointId, runId),
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: messageSearchAttributes(first),
        }),
      );
    }),
  );
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

function startDelivery(d: DeliveryWorkflowInput, workflowIdReusePolicy: WorkflowIdReusePolicy, o = { tolerateRunning: true }): Promise<void> {
  const start = startChild(deliveryWorkflow, {
    args: [d],
    workflowId: deliveryWorkflowId(d.messageId, d.endpointId),
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy,
    typedSearchAttributes: deliverySearchAttributes(d),
  });
  return o.tolerateRunning ? startOnce(start) : start.then(() => undefined);
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
 * One message to one endpoint. The first attempt runs inline, in the workflow's first task: a delivery
 * whose receiver answers 2xx costs one workflow task and no activity task. Only a failed first attempt
 * schedules the retrying activity, whose retry policy is the rest of the delivery's backoff and expiry,
 * so the Temporal UI shows the attempt count and the last failure of a delivery that still retries.
 * A delivery that ends without a 2xx fails the workflow, which is what bulk replay queries select.
 */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<{ status: 'succeeded' }> {
  if (!patched(V2)) return deliveryWorkflowV1(input);
  const target = { messageId: input.messageId, endpointId: input.endpointId };
  // The run owns the delivery's row from its first attempt on; workflow time orders its claim after
  // every earlier run's, a reset run's included.
  const run: RunClaim = { runId: workflowInfo().runId, claimedAt: Date.now() };
  try {
    const first: FirstAttemptResult = await locallyFirst(inline.firstAttempt, inlineFallback.firstAttempt, { ...target, run });
    if (first.kind === 'succeeded') return { status: 'succeeded' };
    if (first.kind === 'failed') {
      throw deliveryFailed(input, ApplicationFailure.create({ type: first.failureType, message: first.reason, nonRetryable: true }));
    }
    // The retrying activity's first execution reports the inline attempt's failure to Temporal's retry
    // policy without a POST, so its backoff, its expiry (counted from here) and the attempt count the UI
    // shows all start from that first attempt.
    const { failureType, reason, delayMs } = first;
    const { deliver } = proxyActivities<Activities>(retryOptions(first.plan));
    await deliver({ ...target, run, plan: first.plan, first: { failureType, reason, delayMs } });
    return { status: 'succeeded' };
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => bookkeeping.failDelivery({ ...target, run, reason: 'cancelled: the delivery workflow was cancelled' }));
      throw err;
    }
    if (err instanceof ActivityFailure) {
      await bookkeeping.failDelivery({ ...target, run, reason: failureReason(err) });
      throw deliveryFailed(input, err);
    }
    throw err;
  }
}

/**
 * The retrying activity's options: the delivery's expiry and backoff. Each failure also names its next
 * delay (activities/index.ts), because Temporal's own attempt count also counts waits for a rate-limit
 * slot; the delays it names follow this same policy.
 */
function retryOptions(plan: DeliveryPlan) {
  return {
    startToCloseTimeout: plan.startToCloseMs,
    scheduleToCloseTimeout: plan.scheduleToCloseMs,
    retry: { initialInterval: plan.initialIntervalMs, backoffCoefficient: plan.backoffCoefficient, maximumInterval: plan.maximumIntervalMs },
  };
}

/** Why a delivery failed, in one line for GET /events/:id. */
function failureReason(err: ActivityFailure): string {
  if (err.cause instanceof TimeoutFailure) return `expired: no 2xx before the retry expiry (last error: ${lastError(err)})`;
  return err.cause?.message ?? err.message;
}

function lastError(err: ActivityFailure): string {
  const last = (err.cause as TimeoutFailure | undefined)?.cause;
  return last?.message ?? 'none recorded';
}

function deliveryFailed(input: DeliveryWorkflowInput, cause: Error): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'DeliveryFailed',
    message: `delivery of ${input.messageId} to ${input.endpointId} failed (run ${workflowInfo().runId})`,
    cause,
    nonRetryable: true,
  });
}

/** Version 1 of deliveryWorkflow, for runs that began under it: every attempt in the activity. */
async function deliveryWorkflowV1(input: DeliveryWorkflowInput): Promise<{ status: 'succeeded' }> {
  const plan = await planningV1.planDelivery({ endpointId: input.endpointId });
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
    slotAt = await planningV1.reserveSlot({ endpointId: input.endpointId });
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
 * of its delivery workflow, started in slices side by side. Pages through Postgres and continues as new,
 * so a recovery of thousands of messages is paced by Temporal, not started all at once from the API.
 */
export async function recoverWorkflow(input: RecoverWorkflowInput): Promise<{ redelivered: number }> {
  if (!patched(V2)) return recoverWorkflowV1(input);
  const page = await bookkeeping.failedDeliveriesPage(input);
  await startRedeliverySlices(
    page.map((d) => ({ messageId: d.messageId, endpointId: input.endpointId, tenantId: d.tenantId, eventType: d.eventType })),
  );
  const last = page[page.length - 1];
  if (last && page.length >= FANOUT_PAGE_SIZE) {
    await continueAsNew<typeof recoverWorkflow>({ ...input, after: { updatedAt: last.updatedAt, messageId: last.messageId } });
  }
  return { redelivered: page.length };
}

async function recoverWorkflowV1(input: RecoverWorkflowInput): Promise<{ redelivered: number }> {
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

/**
 * `POST /events/:id/redeliver` without an endpoint: a new run of the message's delivery to every endpoint
 * it was for, a page at a time, started in slices like a fan-out.
 */
export async function redeliverWorkflow(input: RedeliverWorkflowInput): Promise<{ redelivered: number }> {
  const { endpointIds } = await bookkeeping.messageDeliveriesPage(input);
  await startRedeliverySlices(endpointIds.map((endpointId) => ({ messageId: input.messageId, endpointId, tenantId: input.tenantId, eventType: input.eventType })));
  const last = endpointIds[endpointIds.length - 1];
  if (last && endpointIds.length >= FANOUT_PAGE_SIZE) {
    await continueAsNew<typeof redeliverWorkflow>({ ...input, afterEndpointId: last });
  }
  return { redelivered: endpointIds.length };
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
