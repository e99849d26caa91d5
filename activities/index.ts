import type { Tracer } from '@opentelemetry/api';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../src/config';
import type { Db } from '../src/db/pool';
import type { Logger } from '../src/logger';
import { disableEndpoint, getEndpoint, matchingEndpointIds, noteAttemptOutcome, reserveDeliverySlot } from '../src/db/endpoints';
import {
  createDeliveries, failedDeliveries, finishDelivery, getMessageForDelivery, resetDeliveries, type DeliveryStatus, type FailedDelivery,
} from '../src/db/messages';
import { recordAttempt } from '../src/db/attempts';
import { purgeMessagesBefore, type PurgeCounts } from '../src/db/retention';
import { newId } from '../src/ids';
import type { DeliverInput, DeliveryPlan, MessageWorkflowInput, RecoverWorkflowInput } from '../workflows/types';
import { classify } from '../src/webhooks/classify';
import type { HttpClient } from '../src/webhooks/http';
import { nextDelayMs, planDelivery } from './plan';
import { postSpan } from './post-span';
import { webhookRequest } from '../src/webhooks/signing';

export type ActivityDeps = {
  db: Db;
  http: HttpClient;
  config: Pick<Config, 'delivery'>;
  log: Logger;
  /** Called once per attempt with its outcome, for metrics; `latencyMs` (message created to this attempt's end) on success. */
  onAttempt?: (a: { status: 'succeeded' | 'failed'; durationMs: number; failureType?: string; latencyMs?: number }) => void;
  /** Called when an attempt disabled its endpoint (a 410 Gone, or failing for ENDPOINT_DISABLE_AFTER), for metrics. */
  onEndpointDisabled?: (endpointId: string, reason: 'gone' | 'failing') => void;
  /** Set when tracing is on (src/tracing.ts): each POST is a `webhook.post` span. */
  tracer?: Tracer;
};

/** Fan-out page size; see FANOUT_PAGE_SIZE in workflows/index.ts for why it is bounded. */
const PAGE = 500;

/** A retry over its endpoint's rate limit sleeps in the activity up to this long (well inside startToClose). */
const MAX_IN_ACTIVITY_WAIT_MS = 5_000;

export function createActivities({ db, http, config, log, onAttempt, onEndpointDisabled, tracer }: ActivityDeps) {
  return {
    /** One page of the endpoints a message goes to; their deliveries are recorded as pending. */
    async resolveEndpoints(input: MessageWorkflowInput): Promise<{ endpointIds: string[]; nextAfterSeq?: string }> {
      const page = await matchingEndpointIds(db, { ...input, limit: PAGE });
      await createDeliveries(db, input.messageId, page.ids);
      return { endpointIds: page.ids, nextAfterSeq: page.lastSeq };
    },

    async planDelivery({ endpointId }: { endpointId: string }): Promise<DeliveryPlan> {
      const endpoint = await getEndpoint(db, endpointId);
      const plan = planDelivery(
        {
          timeoutMs: config.delivery.timeoutMs,
          initialIntervalMs: config.delivery.initialIntervalMs,
          backoffCoefficient: config.delivery.backoffCoefficient,
          maxIntervalMs: config.delivery.maxIntervalMs,
          expiryMs: config.delivery.expiryMs,
        },
        endpoint?.retry_schedule_ms ?? null,
      );
      return endpoint?.rate_limit_per_second ? { ...plan, rateLimitPerSecond: endpoint.rate_limit_per_second } : plan;
    },

    /** When this endpoint's next delivery slot is (epoch ms) under its rateLimitPerSecond; undefined = no limit. */
    async reserveSlot({ endpointId }: { endpointId: string }): Promise<number | undefined> {
      return reserveDeliverySlot(db, endpointId);
    },

    /**
     * One attempt: load, sign, POST, record. Throws a typed ApplicationFailure on anything but a 2xx, so
     * Temporal retries it on the delivery's policy and the UI names the reason.
     */
    async deliver({ messageId, endpointId, plan, slotAt }: DeliverInput): Promise<void> {
      const { attempt } = Context.current().info;
      // Under rateLimitPerSecond every attempt waits for its reserved slot: a delay, not a failure. The
      // workflow reserved the first one (and slept on a timer if it was far off); a retry reserves its own.
      const slot = attempt === 1 ? slotAt : plan.rateLimitPerSecond ? await reserveDeliverySlot(db, endpointId) : undefined;
      const waitMs = slot === undefined ? 0 : slot - Date.now();
      if (waitMs > MAX_IN_ACTIVITY_WAIT_MS) {
        throw ApplicationFailure.create({ type: 'RateLimited', message: `rateLimitPerSecond: next slot in ${waitMs} ms`, nextRetryDelay: waitMs });
      }
      if (waitMs > 0) await Context.current().sleep(waitMs);
      const [endpoint, message] = await Promise.all([getEndpoint(db, endpointId), getMessageForDelivery(db, messageId)]);
      if (!message) throw ApplicationFailure.nonRetryable(`message ${messageId} no longer exists`, 'MessageDeleted');
      if (!endpoint) throw ApplicationFailure.nonRetryable(`endpoint ${endpointId} was deleted`, 'EndpointDeleted');
      if (endpoint.disabled) {
        throw ApplicationFailure.nonRetryable(`endpoint ${endpointId} is disabled: ${endpoint.disabled_reason ?? 'by an operator'}`, 'EndpointDisabled');
      }

      const secrets = [endpoint.secret];
      if (endpoint.previous_secret && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at.getTime() > Date.now()) {
        secrets.push(endpoint.previous_secret);
      }
      const { body, headers: signing } = webhookRequest(
        { id: message.id, type: message.event_type, tenantId: message.tenant_id, createdAt: message.created_at, payloadJson: message.payload },
        secrets,
      );
      // The endpoint's own headers cannot override these (the API refuses such names too).
      const headers = { ...endpoint.headers, ...signing };

      const post = () => http.post(endpoint.url, headers, body);
      const result = tracer ? await postSpan(tracer, { url: endpoint.url, endpointId, messageId, attempt }, post) : await post();
      const verdict = classify(result.outcome);
      const statusCode = 'statusCode' in result.outcome ? result.outcome.statusCode : null;
      const succeeded = verdict.outcome === 'success';
      const delayMs = verdict.outcome === 'retry' ? nextDelayMs(plan, attempt, verdict.retryAfterMs) : undefined;
      const error = verdict.outcome === 'success' ? null : verdict.reason;

      await recordAttempt(db, {
        id: newId('atm'),
        message_id: messageId,
        endpoint_id: endpointId,
        attempt,
        status: succeeded ? 'succeeded' : 'failed',
        status_code: statusCode,
        duration_ms: result.durationMs,
        error,
        response_body: result.responseBody,
        nextAttemptAt: delayMs === undefined ? null : new Date(Date.now() + delayMs),
      });
      onAttempt?.({
        status: succeeded ? 'succeeded' : 'failed',
        durationMs: result.durationMs,
        failureType: verdict.outcome === 'retry' ? verdict.failureType : undefined,
        latencyMs: succeeded ? Date.now() - message.created_at.getTime() : undefined,
      });
      log.debug({ messageId, endpointId, attempt, statusCode, durationMs: result.durationMs, error }, 'delivery attempt');

      const autoDisabled = await noteAttemptOutcome(db, endpointId, succeeded, config.delivery.disableAfterMs);
      if (verdict.outcome === 'success') return;
      if (autoDisabled) {
        onEndpointDisabled?.(endpointId, 'failing');
        throw ApplicationFailure.nonRetryable(`endpoint ${endpointId} disabled: ${autoDisabled}`, 'EndpointDisabled');
      }
      if (verdict.outcome === 'gone') {
        await disableEndpoint(db, endpointId, `${verdict.reason} at ${new Date().toISOString()}`);
        onEndpointDisabled?.(endpointId, 'gone');
        throw ApplicationFailure.create({ type: 'EndpointGone', message: verdict.reason, nonRetryable: true });
      }
      // An endpoint's own schedule and a receiver's Retry-After set the next delay; otherwise Temporal's backoff does.
      const nextRetryDelay = plan.retryScheduleMs || verdict.retryAfterMs !== undefined ? delayMs : undefined;
      throw ApplicationFailure.create({ type: verdict.failureType, message: verdict.reason, nextRetryDelay });
    },

    /** One page of the failed deliveries a recovery redelivers, marked pending again. */
    async recoverPage(input: RecoverWorkflowInput): Promise<FailedDelivery[]> {
      const page = await failedDeliveries(db, { ...input, limit: PAGE });
      if (page.length > 0) await resetDeliveries(db, input.endpointId, page.map((d) => d.messageId));
      return page;
    },

    async finishDelivery({ messageId, endpointId, status }: { messageId: string; endpointId: string; status: DeliveryStatus }): Promise<void> {
      await finishDelivery(db, messageId, endpointId, status);
    },

    /** Retention: one batch of the messages created before `before`, with their deliveries and attempts. */
    async purgeExpiredMessages({ before }: { before: string }): Promise<PurgeCounts & { more: boolean }> {
      const purged = await purgeMessagesBefore(db, new Date(before));
      if (purged.messages > 0) log.info({ ...purged, before }, 'retention purged messages');
      return purged;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
