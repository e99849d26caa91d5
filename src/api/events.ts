import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { z } from './zod';
import { getEndpoint } from '../db/endpoints';
import { getEventType } from '../db/event-types';
import { decodeIdCursor, encodeIdCursor } from '../db/cursor';
import {
  deliveryCounts, deliveryPage, getDelivery, deliverySummaries, firstDeliveries, getMessage, insertMessage, listMessages, markWorkflowStarted,
  retakePlace, type DeliveryRow, type DeliverySummary, type MessageRow,
} from '../db/messages';
import { enqueueNew, isFifoFor, requeueDelivery, requeueMessage } from '../db/queues';
import { newId } from '../lib/ids';
import { createTurns } from '../ordering/turns';
import { deliveryStarter } from '../temporal/delivery-starter';
import { deliveryWorkflowId, deliverySearchAttributes, messageSearchAttributes, messageWorkflowId, redeliverWorkflowId } from '../../workflows/ids';
import type { ApiDeps } from './deps';
import {
  Channels, EventTypeName, IdParams, List, MAX_JSON_DEPTH, MessageId, OrderingKey, Paging, TenantId, Text, TimeWindow, Timestamp,
  afterSeq, byteLength, jsonDepth, payloadTooLarge,
} from './common';
import { conflict, notFound, validationFailed } from './errors';
import { compileSchema } from './event-types';
import { JsonText } from '../lib/json-text';
import { payloadText } from './payload';
import type { Routes } from './route';

const Payload = z.record(z.string(), z.unknown()).openapi({
  description: 'Any JSON object; kept, returned and sent to receivers as `data` as written (numbers\' digits, key order, escapes), without whitespace between tokens. A key twice in one object is a 422.',
});

export const EventCreate = z
  .object({
    tenantId: TenantId,
    type: EventTypeName,
    payload: Payload,
    id: MessageId.optional().openapi({ description: 'Your id for the event; the same id again is not delivered twice.' }),
    channels: Channels.optional(),
    orderingKey: OrderingKey.optional().openapi({
      description: 'On a FIFO endpoint, the order holds among the events with the same key (and among those with none); a key held back by a failing event never holds back another. Ignored by unordered endpoints.',
    }),
  })
  .strict();

const EventAccepted = z.object({ id: z.string(), tenantId: z.string(), type: z.string(), createdAt: Timestamp }).openapi('EventAccepted');

const Delivery = z
  .object({
    endpointId: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastAttemptAt: Timestamp.nullable(),
    nextAttemptAt: Timestamp.nullable(),
    failureReason: z.string().nullable().openapi({ description: 'Why a failed delivery failed: its last error, or that its workflow was cancelled, terminated or timed out.' }),
    waitingFor: z.string().nullable().openapi({
      description: 'On a FIFO endpoint, the id of the message this pending delivery waits behind (the one whose delivery holds its queue), else null.',
    }),
  })
  .openapi('Delivery');

/** Deliveries shown inline in an event; the rest are paged with GET /events/:id/deliveries. */
export const INLINE_DELIVERIES = 100;

const DeliverySummaryBody = z
  .object({ pending: z.number().int(), succeeded: z.number().int(), failed: z.number().int() })
  .openapi('DeliverySummary', { description: 'How many of the event\'s deliveries are in each status, all of them counted.' });

const DeliveryCursor = z
  .string()
  .max(400)
  .refine((c) => decodeIdCursor(c) !== undefined, 'is not a cursor this API returned');

const Event = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    type: z.string(),
    payload: Payload,
    channels: z.array(z.string()),
    orderingKey: z.string().nullable(),
    createdAt: Timestamp,
    deliveries: z.array(Delivery).openapi({ description: `The first ${INLINE_DELIVERIES} deliveries, by endpoint id.` }),
    deliveriesNextCursor: z.string().nullable().openapi({ description: 'Set when there are more: the cursor for GET /events/{id}/deliveries.' }),
    deliverySummary: DeliverySummaryBody,
  })
  .openapi('Event');

const DeliveryStatus = z.enum(['pending', 'succeeded', 'failed']);

const EventQuery = z.object({
  tenantId: TenantId.optional(),
  type: EventTypeName.optional(),
  status: DeliveryStatus.optional().openapi({ description: 'Events with at least one delivery in this status.' }),
  ...TimeWindow,
  ...Paging,
});

const DeliveryQuery = z.object({
  status: DeliveryStatus.optional(),
  limit: Paging.limit,
  cursor: DeliveryCursor.optional(),
});

const Redeliver = z.object({ endpointId: Text.min(1).max(64).optional() }).strict();

function deliveryJson(d: DeliveryRow) {
  return {
    endpointId: d.endpoint_id,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastAttemptAt: d.last_attempt_at?.toISOString() ?? null,
    nextAttemptAt: d.next_attempt_at?.toISOString() ?? null,
    failureReason: d.failure_reason,
    waitingFor: d.waiting_for,
  };
}

/** A page of deliveries fetched one past `limit`, and the cursor to the next page when there is one. */
function deliveryPageJson(rows: DeliveryRow[], limit: number) {
  const kept = rows.slice(0, limit);
  return { data: kept.map(deliveryJson), nextCursor: rows.length > limit ? encodeIdCursor(kept[kept.length - 1]!.endpoint_id) : null };
}

/** Events with their first deliveries and a count of all of them, in two queries however many events. */
async function eventsJson(db: ApiDeps['db'], messages: MessageRow[]) {
  const ids = messages.map((m) => m.id);
  const [deliveries, summaries] = await Promise.all([firstDeliveries(db, ids, INLINE_DELIVERIES), deliverySummaries(db, ids)]);
  return messages.map((m) => {
    const page = deliveryPageJson(deliveries.filter((d) => d.message_id === m.id), INLINE_DELIVERIES);
    return {
      id: m.id,
      tenantId: m.tenant_id,
      type: m.event_type,
      payload: new JsonText(m.payload),
      channels: m.channels,
      orderingKey: m.ordering_key,
      createdAt: m.created_at.toISOString(),
      deliveries: page.data,
      deliveriesNextCursor: page.nextCursor,
      deliverySummary: summaries.get(m.id) as DeliverySummary,
    };
  });
}

/** Compiled event-type schemas, recompiled when the type changes. */
function schemaValidator() {
  const cache = new Map<string, { version: number; validate: ValidateFunction }>();
  return (name: string, schema: object, version: number) => {
    const cached = cache.get(name);
    if (cached?.version === version) return cached.validate;
    const validate = compileSchema(schema);
    cache.set(name, { version, validate });
    return validate;
  };
}

export function eventRoutes(routes: Routes, { db, temporal, config, metrics, log }: ApiDeps): void {
  const validatorFor = schemaValidator();
  const turns = createTurns({ db, start: deliveryStarter(temporal, config.temporal.taskQueue), log });

  routes.add({
    method: 'post',
    path: '/events',
    tag: 'Events',
    summary: 'Send an event: 202 once its message workflow has durably started',
    body: EventCreate,
    responses: { 202: { description: 'Accepted; delivery runs in Temporal.', schema: EventAccepted }, 409: { description: 'The id belongs to an event of another tenant or type.' } },
    handler: async ({ body, req }) => {
      const headerKey = req.get('idempotency-key');
      if (headerKey !== undefined) {
        if (!MessageId.safeParse(headerKey).success) {
          throw validationFailed('The Idempotency-Key header is not a valid event id.', [{ path: 'headers.idempotency-key', message: 'must match ^[A-Za-z0-9_.:-]{1,128}$' }]);
        }
        if (body.id !== undefined && body.id !== headerKey) {
          throw validationFailed('The body id and the Idempotency-Key header differ.', [{ path: 'body.id', message: 'must equal the Idempotency-Key header' }]);
        }
      }
      if (jsonDepth(body.payload) > MAX_JSON_DEPTH) {
        throw validationFailed('The payload nests too deeply.', [{ path: 'body.payload', message: `must nest at most ${MAX_JSON_DEPTH} levels` }]);
      }
      const payloadJson = payloadText(req);
      if (byteLength(payloadJson) > config.maxPayloadBytes) {
        metrics.eventsRefused.inc({ reason: 'payload_too_large' });
        throw payloadTooLarge(config.maxPayloadBytes);
      }
      const eventType = await getEventType(db, body.type);
      if (eventType?.schema) {
        const validate = validatorFor(eventType.name, eventType.schema, eventType.updated_at.getTime());
        // Checked on JSON.parse's reading of the payload: numbers as doubles, so digits past the 17th are
        // rounded for the check (never in what is stored and sent), and one beyond ±1.8e308 (1e400) is
        // checked as Infinity: a number, and above any `maximum`.
        if (!validate(body.payload)) {
          metrics.eventsRefused.inc({ reason: 'schema' });
          throw validationFailed(
            `The payload does not match the schema of event type ${body.type}.`,
            (validate.errors ?? []).map((e) => ({ path: `body.payload${e.instancePath.replaceAll('/', '.')}`, message: e.message ?? 'is invalid' })),
          );
        }
      }

      const id = body.id ?? headerKey ?? newId('msg');
      const { row, created } = await insertMessage(db, {
        id, tenantId: body.tenantId, eventType: body.type, payloadJson, channels: body.channels ?? [], orderingKey: body.orderingKey,
      });
      if (!created && (row.tenant_id !== body.tenantId || row.event_type !== body.type)) {
        throw conflict(`Event id ${id} is already used by an event of another tenant or type.`);
      }
      // Started at most once: a retry of a request whose start failed starts it now; a repeat of a
      // started one does not, even after Temporal has forgotten the workflow.
      if (!row.workflow_started) {
        // Sent again after a 503: its 202 comes now, so its place in the order is taken now.
        if (!created) await retakePlace(db, id, row.tenant_id);
        try {
          await temporal.workflow.start('messageWorkflow', {
            taskQueue: config.temporal.taskQueue,
            workflowId: messageWorkflowId(id),
            args: [{ messageId: id, tenantId: row.tenant_id, eventType: row.event_type, channels: row.channels }],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            typedSearchAttributes: messageSearchAttributes({ tenantId: row.tenant_id, eventType: row.event_type, messageId: id }),
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        await markWorkflowStarted(db, id);
      }
      if (created) metrics.eventsAccepted.inc();
      return { status: 202, body: { id: row.id, tenantId: row.tenant_id, type: row.event_type, createdAt: row.created_at.toISOString() } };
    },
  });

  routes.add({
    method: 'get',
    path: '/events',
    tag: 'Events',
    summary: 'List events, newest first',
    tenant: { access: 'read', scope: 'own-tenant' },
    query: EventQuery,
    responses: { 200: { description: 'A page of events.', schema: List(Event) } },
    handler: async ({ query }) => {
      const { rows, nextCursor } = await listMessages(db, {
        tenantId: query.tenantId, eventType: query.type, status: query.status, since: query.since, until: query.until, limit: query.limit, afterSeq: afterSeq(query.cursor),
      });
      return { status: 200, body: { data: await eventsJson(db, rows), nextCursor } };
    },
  });

  routes.add({
    method: 'get',
    path: '/events/:id',
    tag: 'Events',
    summary: `An event with the state of its delivery to each endpoint (the first ${INLINE_DELIVERIES} inline)`,
    tenant: { access: 'read', scope: 'event' },
    params: IdParams,
    responses: { 200: { description: 'The event.', schema: Event }, 404: { description: 'No such event.' } },
    handler: async ({ params }) => {
      const message = await getMessage(db, params.id);
      if (!message) throw notFound('event');
      return { status: 200, body: (await eventsJson(db, [message]))[0] };
    },
  });

  routes.add({
    method: 'get',
    path: '/events/:id/deliveries',
    tag: 'Events',
    summary: "An event's deliveries, by endpoint id, keyset-paged",
    tenant: { access: 'read', scope: 'event' },
    params: IdParams,
    query: DeliveryQuery,
    responses: { 200: { description: 'A page of deliveries.', schema: List(Delivery) }, 404: { description: 'No such event.' } },
    handler: async ({ params, query }) => {
      if (!(await getMessage(db, params.id))) throw notFound('event');
      const rows = await deliveryPage(db, {
        messageId: params.id, status: query.status, afterEndpointId: query.cursor === undefined ? undefined : decodeIdCursor(query.cursor), limit: query.limit,
      });
      return { status: 200, body: deliveryPageJson(rows, query.limit) };
    },
  });

  routes.add({
    method: 'post',
    path: '/events/:id/redeliver',
    tag: 'Events',
    summary: 'Deliver an event again, to one endpoint or to all it was for, through a new delivery workflow run',
    tenant: { access: 'write', scope: 'event' },
    params: IdParams,
    body: Redeliver,
    responses: {
      202: {
        description: 'Redelivery started: `count` deliveries get a new run (`endpointIds` names the one asked for).',
        schema: z.object({ id: z.string(), count: z.number().int(), endpointIds: z.array(z.string()).optional() }),
      },
      404: { description: 'No such event, or the endpoint is not one of its tenant.' },
      409: { description: 'A delivery of this event to that endpoint is still running.' },
    },
    handler: async ({ params, body }) => {
      const message = await getMessage(db, params.id);
      if (!message) throw notFound('event');
      const { id: messageId, tenant_id: tenantId, event_type: eventType } = message;
      // A new run claims the delivery's row itself when it starts (src/db/deliveries.ts): nothing is reset
      // here, so a start that fails leaves the row as true as it was.
      if (body.endpointId) {
        const endpoint = await getEndpoint(db, body.endpointId);
        if (!endpoint || endpoint.tenant_id !== tenantId) throw notFound('endpoint of this tenant');
        const workflowId = deliveryWorkflowId(messageId, endpoint.id);
        const delivery = await getDelivery(db, messageId, endpoint.id);
        if (delivery ? delivery.queue_key !== null : await isFifoFor(db, messageId, endpoint.id)) {
          // A FIFO delivery is queued again behind those waiting; its queue starts it when its turn comes.
          if (delivery?.status === 'pending') throw conflict(`Delivery to ${endpoint.id} is still pending (running, or waiting in its FIFO queue).`);
          if (delivery && (await isRunning(temporal, workflowId)) && !(await closesWithin(temporal, workflowId, CLOSING_WAIT_MS))) {
            throw conflict(`Delivery to ${endpoint.id} is still running; wait for it to end or cancel it first.`);
          }
          const queues = delivery ? await requeueDelivery(db, { messageId, endpointId: endpoint.id }) : [await enqueueNew(db, messageId, endpoint.id)];
          if (queues.length === 0) throw conflict(`Delivery to ${endpoint.id} is still pending.`);
          await turns.handOnAll(queues);
          return { status: 202, body: { id: messageId, endpointIds: [endpoint.id], count: 1 } };
        }
        if (await isRunning(temporal, workflowId)) {
          // A run records its delivery's end a moment before it closes. Over (the row says so): give it that
          // moment. Still pending: the contract's 409.
          const closing = delivery !== undefined && delivery.status !== 'pending' && (await closesWithin(temporal, workflowId, CLOSING_WAIT_MS));
          if (!closing) throw conflict(`Delivery to ${endpoint.id} is still running; wait for it to end or cancel it first.`);
        }
        try {
          await temporal.workflow.start('deliveryWorkflow', {
            taskQueue: config.temporal.taskQueue,
            workflowId,
            args: [{ messageId, endpointId: endpoint.id, tenantId, eventType }],
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
            typedSearchAttributes: deliverySearchAttributes({ tenantId, eventType, messageId, endpointId: endpoint.id }),
          });
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) throw conflict(`Delivery to ${endpoint.id} is still running.`);
          throw err;
        }
        return { status: 202, body: { id: messageId, endpointIds: [endpoint.id], count: 1 } };
      }
      // To every endpoint: one redeliverWorkflow starts the new runs in slices, as a fan-out does. A
      // delivery still pending has a run in charge; redelivering beside it would race it.
      const summary = await deliveryCounts(db, messageId);
      if (summary.pending > 0) throw conflict(`${summary.pending} deliveries of ${messageId} are still running; wait for them to end or cancel them first.`);
      if (summary.total > 0) {
        // FIFO deliveries go back into their queues first; the workflow's first page moves those queues on
        // (and the reconciler does, should the start below fail) and starts new runs of the unordered ones.
        await requeueMessage(db, messageId);
        await temporal.workflow.start('redeliverWorkflow', {
          taskQueue: config.temporal.taskQueue,
          workflowId: redeliverWorkflowId(messageId, randomUUID()),
          args: [{ messageId, tenantId, eventType }],
          typedSearchAttributes: messageSearchAttributes({ tenantId, eventType, messageId }),
        });
      }
      return { status: 202, body: { id: messageId, count: summary.total } };
    },
  });
}

/** How long a redelivery waits for a run that has recorded its end to close. */
const CLOSING_WAIT_MS = 5_000;

async function closesWithin(temporal: ApiDeps['temporal'], workflowId: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await isRunning(temporal, workflowId))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function isRunning(temporal: ApiDeps['temporal'], workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}
