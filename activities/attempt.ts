import { Context } from '@temporalio/activity';
import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../src/config';
import type { Db } from '../src/db/pool';
import type { Logger } from '../src/observability/logger';
import { disableEndpoint, getEndpoint, noteAttemptOutcome, reserveDeliverySlot, type EndpointRow } from '../src/db/endpoints';
import { getMessageForDelivery } from '../src/db/messages';
import {
  claimDelivery, failDelivery, holdSlot, legacyDelivery, ownedDelivery, recordAttempt, type DeliveryTarget, type RunClaim,
} from '../src/db/deliveries';
import { putBack, queueOf } from '../src/db/queues';
import { newId } from '../src/lib/ids';
import { createTurns, type StartDelivery } from '../src/ordering/turns';
import { SecretBoxError } from '../src/secrets/secret-box';
import { classify } from '../src/webhooks/classify';
import { maskHeaders, revealHeaders } from '../src/webhooks/endpoint-headers';
import { flatHeaders, type HttpClient, type PostResult } from '../src/webhooks/http';
import type { RelayTransport } from '../src/relay/transport';
import { RELAY_NOT_CONNECTED_CODE } from '../src/webhooks/classify';
import { webhookRequest } from '../src/webhooks/signing';
import type { DeliveryPlan, Outcome } from '../workflows/types';
import { nextDelayMs, planDelivery } from './plan';
import { postSpan } from './post-span';

export type AttemptDeps = {
  db: Db;
  http: HttpClient;
  /** How a relay endpoint's attempts travel (`hookflow listen`); without it they fail as `relay not connected`. */
  relay?: RelayTransport;
  config: Pick<Config, 'delivery'>;
  log: Logger;
  onAttempt?: (a: { status: 'succeeded' | 'failed'; durationMs: number; failureType?: string; latencyMs?: number }) => void;
  onEndpointDisabled?: (endpointId: string, reason: 'gone' | 'failing') => void;
  tracer?: Tracer;
  /** Starts the run of a FIFO delivery given its queue's turn; without it the reconciler's sweep starts it. */
  startDelivery?: StartDelivery;
};

/** A rate-limited attempt waits in place for a slot up to this long; a later slot is held and the attempt deferred. */
export const MAX_SLOT_WAIT_MS = 5_000;

/**
 * One attempt of a delivery, as its steps: load what it needs, wait for its rate-limit slot, sign, POST,
 * classify the answer, record it. Shared by the first attempt (run inline, as a local activity) and the
 * retrying activity. `run` is the workflow run that owns the delivery row; null for runs of workflow
 * version 1, which predate ownership.
 */
export function createAttempt(deps: AttemptDeps) {
  const { db, config } = deps;
  const turns = createTurns({ db, start: deps.startDelivery, log: deps.log });

  /** The retry policy of a delivery to this endpoint (the defaults when it is gone). */
  function planFor(endpoint: Pick<EndpointRow, 'retry_schedule_ms' | 'rate_limit_per_second'> | undefined): DeliveryPlan {
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
  }

  async function load(target: DeliveryTarget) {
    const [endpoint, message] = await Promise.all([
      getEndpoint(db, target.endpointId).catch((err: unknown) => {
        if (err instanceof SecretBoxError) return 'unreadable' as const;
        throw err;
      }),
      getMessageForDelivery(db, target.messageId),
    ]);
    return { endpoint, message };
  }

  /** Why this delivery cannot be attempted at all, or undefined when it can. */
  function gate(target: DeliveryTarget, { endpoint, message }: Awaited<ReturnType<typeof load>>): Outcome | undefined {
    if (!message) return { kind: 'failed', failureType: 'MessageDeleted', reason: `message ${target.messageId} no longer exists` };
    if (!endpoint) return { kind: 'failed', failureType: 'EndpointDeleted', reason: `endpoint ${target.endpointId} was deleted` };
    if (endpoint === 'unreadable') {
      return {
        kind: 'failed',
        failureType: 'SecretUnreadable',
        reason: `the signing secret or credential headers of endpoint ${target.endpointId} open with none of the configured keys: set the key they were sealed with ` +
          'in HOOKFLOW_ENCRYPTION_KEY or HOOKFLOW_ENCRYPTION_KEYS_OLD, then redeliver',
      };
    }
    if (endpoint.disabled) {
      return { kind: 'failed', failureType: 'EndpointDisabled', reason: `endpoint ${target.endpointId} is disabled: ${endpoint.disabled_reason ?? 'by an operator'}` };
    }
    return undefined;
  }

  /**
   * Under rateLimitPerSecond: the slot this attempt may POST in. A slot held from a deferral is used
   * first; a new one is reserved otherwise. Far slots are held for the next try and the attempt deferred.
   */
  async function awaitSlot(target: DeliveryTarget, run: RunClaim | null, heldSlotAt: number | null): Promise<Outcome | undefined> {
    const slotAt = heldSlotAt ?? (await reserveDeliverySlot(db, target.endpointId));
    if (slotAt === undefined) return undefined;
    const waitMs = slotAt - Date.now();
    if (waitMs > MAX_SLOT_WAIT_MS) {
      // A run of workflow version 1 has no row of its own to hold the slot in: it reserves again next time.
      if (run) await holdSlot(db, target, run, slotAt);
      // Come back a little early and wait the rest in place: Temporal's timers are about a second precise.
      return { kind: 'retry', failureType: 'RateLimited', reason: `rateLimitPerSecond: next slot in ${waitMs} ms`, delayMs: waitMs - MAX_SLOT_WAIT_MS / 2, attempted: false };
    }
    if (heldSlotAt !== null && run) await holdSlot(db, target, run, null);
    if (waitMs > 0) await sleep(waitMs);
    return undefined;
  }

  /**
   * One attempt. `claim` makes `run` the owner of the row first (the first attempt of a run). The
   * attempt's number is the row's count of real attempts plus one (Temporal's own count also counts
   * deferrals); `heldSlotAt` is a version-1 run's first slot, reserved by its workflow.
   */
  async function attempt(
    target: DeliveryTarget,
    run: RunClaim | null,
    o: { claim: boolean; plan?: DeliveryPlan; heldSlotAt?: number },
  ): Promise<{ outcome: Outcome; plan?: DeliveryPlan }> {
    // The claim (or, on a retry, the ownership check) and the reads the POST needs go out together.
    const [state, loaded] = await Promise.all([
      run ? (o.claim ? claimDelivery(db, target, run) : ownedDelivery(db, target, run)) : legacyDelivery(db, target),
      load(target),
    ]);
    if (!state) return { outcome: run && o.claim ? await refused(target) : SUPERSEDED };
    const queue = state.queueKey !== null ? { endpointId: target.endpointId, orderingKey: state.queueKey } : undefined;
    // Finished already: this run recorded its end, then the worker died before Temporal heard of it, or
    // the inline attempt runs again. Nothing is sent or recorded again, and the run ends as the row says.
    // On a FIFO endpoint the turn is handed on (again): the first time's start may have been lost.
    if (state.status !== 'pending') {
      if (queue) await turns.handOn(queue, { ensure: true });
      if (state.status === 'succeeded') return { outcome: { kind: 'succeeded' } };
      return { outcome: { kind: 'failed', failureType: 'DeliveryEnded', reason: state.failureReason ?? 'the delivery already failed' } };
    }
    const closed = gate(target, loaded);
    if (closed) {
      if (closed.kind === 'failed') {
        // Disabling an endpoint holds its queue: a head not yet attempted waits at the front instead of failing.
        if (queue && run && closed.failureType === 'EndpointDisabled' && state.attempts === 0 && (await putBack(db, target, run.runId))) {
          return { outcome: { ...closed, reason: `${closed.reason}; its FIFO queue is held and this message waits at its front` } };
        }
        await failDelivery(db, target, run, closed.reason);
        if (queue) await turns.handOn(queue);
      }
      return { outcome: closed };
    }
    const endpoint = loaded.endpoint as EndpointRow;
    const message = loaded.message!;
    const plan = o.plan ?? planFor(endpoint);
    const number = (run ? state.attempts : Context.current().info.attempt - 1) + 1;

    if (plan.rateLimitPerSecond) {
      const deferred = await awaitSlot(target, run, (run ? state.slotAt : null) ?? o.heldSlotAt ?? null);
      if (deferred) return { outcome: deferred, plan };
    }

    const secrets = [endpoint.secret];
    if (endpoint.previous_secret && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at.getTime() > Date.now()) {
      secrets.push(endpoint.previous_secret);
    }
    const { body, headers: signing } = webhookRequest(
      { id: message.id, type: message.event_type, tenantId: message.tenant_id, createdAt: message.created_at, payloadJson: message.payload },
      secrets,
    );
    // The endpoint's own headers cannot override these (the API refuses such names too). Credentials are
    // revealed for the POST only; the attempt records them masked.
    const headers = { ...endpoint.headers, ...signing };
    // A relay endpoint's request goes down `hookflow listen`'s connection instead; all else is the same.
    const post = (): Promise<PostResult> => endpoint.relay
      ? (deps.relay?.post(endpoint.id, revealHeaders(headers), body) ?? Promise.resolve({ outcome: { error: { code: RELAY_NOT_CONNECTED_CODE, message: 'relay not connected' } }, durationMs: 0, responseBody: '' }))
      : deps.http.post(endpoint.url, revealHeaders(headers), body);
    const result = deps.tracer
      ? await postSpan(deps.tracer, { url: endpoint.url, endpointId: target.endpointId, messageId: target.messageId, attempt: number }, post)
      : await post();

    const verdict = classify(result.outcome);
    const statusCode = 'statusCode' in result.outcome ? result.outcome.statusCode : null;
    let outcome: Outcome;
    if (verdict.outcome === 'success') outcome = { kind: 'succeeded' };
    else if (verdict.outcome === 'gone') outcome = { kind: 'failed', failureType: 'EndpointGone', reason: verdict.reason };
    else {
      const delayMs = nextDelayMs(plan, number, verdict.retryAfterMs);
      outcome = delayMs === undefined
        ? { kind: 'failed', failureType: 'RetriesExhausted', reason: `${verdict.reason} (attempt ${number} of ${plan.maximumAttempts}, the endpoint's retrySchedule)` }
        : { kind: 'retry', failureType: verdict.failureType, reason: verdict.reason, delayMs, attempted: true };
    }

    // Auto-disable counts every failed attempt; it may turn a retry into the end of the delivery.
    const autoDisabled = await noteAttemptOutcome(db, target.endpointId, outcome.kind === 'succeeded', config.delivery.disableAfterMs);
    if (autoDisabled && outcome.kind === 'retry') outcome = { kind: 'failed', failureType: 'EndpointDisabled', reason: `endpoint ${target.endpointId} disabled: ${autoDisabled}` };

    await recordAttempt(db, target, run, {
      id: newId('atm'),
      attempt: number,
      status: outcome.kind === 'succeeded' ? 'succeeded' : 'failed',
      statusCode,
      durationMs: result.durationMs,
      error: verdict.outcome === 'success' ? null : verdict.reason,
      responseBody: result.responseBody,
      url: endpoint.url,
      requestHeaders: maskHeaders(headers),
      responseHeaders: 'headers' in result.outcome ? flatHeaders(result.outcome.headers) : null,
      next: outcome.kind === 'retry'
        ? { status: 'pending', nextAttemptAt: new Date(Date.now() + outcome.delayMs) }
        : outcome.kind === 'succeeded' ? { status: 'succeeded' } : { status: 'failed', reason: outcome.reason },
    });
    if (verdict.outcome === 'gone') {
      await disableEndpoint(db, target.endpointId, `${verdict.reason} at ${new Date().toISOString()}`);
      deps.onEndpointDisabled?.(target.endpointId, 'gone');
    } else if (autoDisabled) {
      deps.onEndpointDisabled?.(target.endpointId, 'failing');
    }
    deps.onAttempt?.({
      status: outcome.kind === 'succeeded' ? 'succeeded' : 'failed',
      durationMs: result.durationMs,
      failureType: verdict.outcome === 'retry' ? verdict.failureType : undefined,
      latencyMs: outcome.kind === 'succeeded' ? Date.now() - message.created_at.getTime() : undefined,
    });
    deps.log.debug({ ...target, attempt: number, statusCode, durationMs: result.durationMs, outcome: outcome.kind }, 'delivery attempt');
    // Ended, and recorded as ended: the next message of a FIFO queue may go (after a 410, the endpoint is
    // disabled by now and the queue is held).
    if (queue && outcome.kind !== 'retry') await turns.handOn(queue);
    return { outcome, plan };
  }

  /** Why a run may not claim its row: a newer run owns it, or (FIFO) the delivery does not hold its queue's turn. */
  async function refused(target: DeliveryTarget): Promise<Outcome> {
    if (await queueOf(db, target)) {
      return {
        kind: 'failed',
        failureType: 'NotItsTurn',
        reason: 'a FIFO delivery runs only while it holds its queue\'s turn; it has ended, waits in its queue, or another run holds the turn (redeliver it through the API)',
      };
    }
    return SUPERSEDED;
  }

  return { attempt, planFor, turns };
}

const SUPERSEDED: Outcome = { kind: 'failed', failureType: 'Superseded', reason: 'a newer run of this delivery owns it' };

/** A wait inside an activity: Context's sleep ends early when the activity is cancelled; a local activity has no heartbeat to carry. */
function sleep(ms: number): Promise<void> {
  return Context.current().sleep(ms);
}
