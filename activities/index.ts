import { ApplicationFailure, Context } from '@temporalio/activity';
import { getEndpoint, matchingEndpoints, reserveDeliverySlot } from '../src/db/endpoints';
import { deliveryPage, failedDeliveries, getMessageForDelivery, resetDeliveries, type FailedDelivery } from '../src/db/messages';
import { failDelivery } from '../src/db/deliveries';
import { queueOf, queuesOfMessage, requeueFailed } from '../src/db/queues';
import { recordRoutedPage } from '../src/db/routing';
import { purgeMessagesBefore, type PurgeCounts } from '../src/db/retention';
import { filterEventText } from '../src/filters/event';
import { selectByFilter } from '../src/filters/select';
import { FANOUT_PAGE_SIZE } from '../workflows/types';
import type {
  DeliverInput, DeliveryPlan, FailDeliveryInput, FirstAttemptInput, FirstAttemptResult, MessageWorkflowInput, RecoverWorkflowInput,
  Outcome, RedeliverWorkflowInput, RetryInput,
} from '../workflows/types';
import { createAttempt, type AttemptDeps } from './attempt';

export type ActivityDeps = AttemptDeps;

export function createActivities(deps: ActivityDeps) {
  const { db, log } = deps;
  const { attempt, planFor, turns } = createAttempt(deps);

  async function messageEventText({ messageId, channels }: MessageWorkflowInput): Promise<string> {
    const m = await getMessageForDelivery(db, messageId);
    if (!m) throw new Error(`message ${messageId} not found`);
    return filterEventText({ id: m.id, type: m.event_type, tenantId: m.tenant_id, createdAt: m.created_at, payloadJson: m.payload }, channels);
  }
  return {
    /**
     * One page of the endpoints a message goes to, after their filters; their deliveries are recorded as
     * pending. Endpoints a filter dropped get nothing, and are named in `filteredOut`, which the message
     * workflow's history records (the local activity's result), so an operator can see why an endpoint
     * did not get a message. A page whose endpoints are all dropped still carries the cursor onwards.
     * The workflow starts the unordered deliveries; a FIFO one waits in its queue, which starts it when its
     * turn comes (now, if the queue was idle). Once its last page is routed, the message stops holding back
     * FIFO queues that waited for it.
     */
    async resolveEndpoints(input: MessageWorkflowInput): Promise<ResolvedPage> {
      const page = await matchingEndpoints(db, { ...input, limit: FANOUT_PAGE_SIZE });
      // The message is read only when some endpoint of the page has a filter.
      const event = page.endpoints.some((e) => e.filter !== null) ? await messageEventText(input) : '';
      const { kept, dropped, unreadable } = selectByFilter(page.endpoints, event);
      if (unreadable.length > 0) log.warn({ messageId: input.messageId, endpointIds: unreadable }, 'stored filter does not compile: delivered unfiltered');
      const last = page.lastSeq === undefined;
      const routed = await recordRoutedPage(db, { messageId: input.messageId, tenantId: input.tenantId, endpointIds: kept, page: input.afterSeq ?? '0', last });
      if (routed.fifo.length > 0) await turns.handOnAll(routed.fifo.map((endpointId) => ({ endpointId, orderingKey: routed.orderingKey })));
      if (last && routed.tenantHasFifo) await turns.routed(input.messageId);
      return { endpointIds: routed.unordered, nextAfterSeq: page.lastSeq, ...(dropped.length > 0 ? { filteredOut: dropped } : {}) };
    },

    /**
     * A delivery's first attempt, run inline in its workflow's first task (a local activity): claims the
     * row for the run and POSTs. Any answer of the receiver is a result, not an error, so only a broken
     * database or worker makes the workflow retry it; the outcome says what comes next.
     */
    async firstAttempt({ run, ...target }: FirstAttemptInput): Promise<FirstAttemptResult> {
      const { outcome, plan } = await attempt(target, run, { claim: true });
      return outcome.kind === 'retry' ? { ...outcome, plan: plan! } : outcome;
    },

    /**
     * The retrying attempts of a delivery whose first attempt failed. Its retry policy is the delivery's
     * backoff and expiry, so the Temporal UI shows the attempt count and the last failure; each failure
     * is a typed ApplicationFailure naming the reason.
     */
    async deliver(input: DeliverInput | RetryInput): Promise<void> {
      const { messageId, endpointId, plan } = input;
      const { attempt: temporalAttempt } = Context.current().info;
      if ('first' in input && temporalAttempt === 1) {
        // Not a POST: the first attempt ran inline; its failure starts this policy's count and backoff.
        throw ApplicationFailure.create({ type: input.first.failureType, message: input.first.reason, nextRetryDelay: input.first.delayMs });
      }
      const run = 'run' in input ? input.run : null;
      const heldSlotAt = !('run' in input) && temporalAttempt === 1 ? input.slotAt : undefined;
      const { outcome } = await attempt({ messageId, endpointId }, run, { claim: false, plan, heldSlotAt });
      throwUnlessSucceeded(outcome);
    },

    /**
     * Ends a run's delivery as failed with the reason, unless it already ended (the attempt recorded it); on
     * a FIFO endpoint the queue's turn passes on (again, when this runs twice).
     */
    async failDelivery({ run, reason, ...target }: FailDeliveryInput): Promise<void> {
      await failDelivery(db, target, run, reason);
      const queue = await queueOf(db, target);
      if (queue) await turns.handOn(queue, { ensure: true });
    },

    /** Version 1 only: the plan of a run that predates firstAttempt. */
    async planDelivery({ endpointId }: { endpointId: string }): Promise<DeliveryPlan> {
      return planFor(await getEndpoint(db, endpointId));
    },

    /** Version 1 only: the first slot of a rate-limited run that predates firstAttempt. */
    async reserveSlot({ endpointId }: { endpointId: string }): Promise<number | undefined> {
      return reserveDeliverySlot(db, endpointId);
    },

    /** Version 1 only: a run that predates ownership ends its delivery; writes only rows no run has claimed. */
    async finishDelivery({ messageId, endpointId }: { messageId: string; endpointId: string; status: 'failed' }): Promise<void> {
      await failDelivery(db, { messageId, endpointId }, null, 'failed');
    },

    /** Version 1 only: a page of failed deliveries, marked pending again before their redelivery starts. */
    async recoverPage(input: RecoverWorkflowInput): Promise<FailedDelivery[]> {
      await turns.handOnAll(await requeueFailed(db, input));
      const page = await failedDeliveries(db, { ...input, limit: FANOUT_PAGE_SIZE });
      if (page.length > 0) await resetDeliveries(db, input.endpointId, page.map((d) => d.messageId));
      return page;
    },

    /**
     * One page of an endpoint's failed unordered deliveries in the window; each new run claims its row itself.
     * The FIFO ones are first queued again, all at once and in their messages' order, behind those waiting;
     * a repeat finds them pending (or failed again after the window) and queues none twice.
     */
    async failedDeliveriesPage(input: RecoverWorkflowInput): Promise<FailedDelivery[]> {
      await turns.handOnAll(await requeueFailed(db, input));
      return failedDeliveries(db, { ...input, limit: FANOUT_PAGE_SIZE });
    },

    /**
     * One page of a message's unordered deliveries (their endpoints), for a redelivery to all of them. Its
     * FIFO deliveries were queued again by the API; the first page moves their queues on.
     */
    async messageDeliveriesPage(input: RedeliverWorkflowInput): Promise<{ endpointIds: string[] }> {
      if (!input.afterEndpointId) await turns.handOnAll(await queuesOfMessage(db, input.messageId));
      // deliveryPage reads one row past the limit for its cursor; a full page makes the workflow continue.
      const rows = await deliveryPage(db, { messageId: input.messageId, afterEndpointId: input.afterEndpointId, limit: FANOUT_PAGE_SIZE, unorderedOnly: true });
      return { endpointIds: rows.slice(0, FANOUT_PAGE_SIZE).map((d) => d.endpoint_id) };
    },

    /** Retention: one batch of the messages created before `before`, with their deliveries and attempts. */
    async purgeExpiredMessages({ before }: { before: string }): Promise<PurgeCounts & { more: boolean }> {
      const purged = await purgeMessagesBefore(db, new Date(before));
      if (purged.messages > 0) log.info({ ...purged, before }, 'retention purged messages');
      return purged;
    },
  };
}

/** A retrying attempt's outcome as Temporal sees it: a return, a retry after a given delay, or the end. */
function throwUnlessSucceeded(outcome: Outcome): void {
  if (outcome.kind === 'succeeded') return;
  if (outcome.kind === 'failed') throw ApplicationFailure.create({ type: outcome.failureType, message: outcome.reason, nonRetryable: true });
  // The delay is always given: the attempt number behind it counts real attempts only, where Temporal's
  // own backoff would also count waits for a rate-limit slot. The values follow the policy it was given.
  throw ApplicationFailure.create({ type: outcome.failureType, message: outcome.reason, nextRetryDelay: outcome.delayMs });
}

/** One page of a message's endpoints, as the message workflow's history records it. */
export type ResolvedPage = { endpointIds: string[]; nextAfterSeq?: string; filteredOut?: string[] };

export type Activities = ReturnType<typeof createActivities>;
