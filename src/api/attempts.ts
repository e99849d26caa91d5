import { z } from './zod';
import { getAttempt, listAttempts, type AttemptRow } from '../db/attempts';
import { getEndpoint } from '../db/endpoints';
import { getMessage, getMessageForDelivery } from '../db/messages';
import { maskHeaders } from '../webhooks/endpoint-headers';
import { webhookRequest } from '../webhooks/signing';
import type { ApiDeps } from './deps';
import { IdParams, List, Paging, TimeWindow, Timestamp, afterSeq } from './common';
import { notFound } from './errors';
import type { Routes } from './route';

/** Delivery attempts, a resource of their own: listed per event and per endpoint, and one by one. */
export const Attempt = z
  .object({
    id: z.string(),
    messageId: z.string(),
    endpointId: z.string(),
    attempt: z.number().int(),
    status: z.enum(['succeeded', 'failed']),
    statusCode: z.number().int().nullable(),
    durationMs: z.number().int(),
    error: z.string().nullable(),
    responseBody: z.string().openapi({ description: 'The first 4 KiB of the response.' }),
    createdAt: Timestamp,
  })
  .openapi('Attempt');

const HeaderMap = z.record(z.string(), z.string()).nullable();

const AttemptDetail = Attempt.extend({
  request: z.object({
    url: z.string().nullable().openapi({ description: 'Null for attempts recorded before hookflow kept it.' }),
    headers: HeaderMap.openapi({ description: 'As sent, signatures included, credentials as "********"; null for attempts recorded before hookflow kept them.' }),
    body: z.string().openapi({ description: 'The envelope as sent: the same bytes on every attempt of a message.' }),
  }),
  response: z.object({
    statusCode: z.number().int().nullable(),
    headers: HeaderMap,
    body: z.string().openapi({ description: 'The first 4 KiB of the response.' }),
  }),
}).openapi('AttemptDetail');

export const AttemptQuery = z.object({ status: z.enum(['succeeded', 'failed']).optional(), ...TimeWindow, ...Paging });

export function attemptJson(a: AttemptRow) {
  return {
    id: a.id,
    messageId: a.message_id,
    endpointId: a.endpoint_id,
    attempt: a.attempt,
    status: a.status,
    statusCode: a.status_code,
    durationMs: a.duration_ms,
    error: a.error,
    responseBody: a.response_body,
    createdAt: a.created_at.toISOString(),
  };
}

export function attemptRoutes(routes: Routes, { db }: ApiDeps): void {
  routes.add({
    method: 'get',
    path: '/events/:id/attempts',
    tag: 'Attempts',
    summary: "Every attempt of an event's deliveries, newest first",
    tenant: { access: 'read', scope: 'event' },
    params: IdParams,
    query: AttemptQuery,
    responses: { 200: { description: 'A page of attempts.', schema: List(Attempt) }, 404: { description: 'No such event.' } },
    handler: async ({ params, query }) => {
      if (!(await getMessage(db, params.id))) throw notFound('event');
      const { rows, nextCursor } = await listAttempts(db, { messageId: params.id, status: query.status, since: query.since, until: query.until, limit: query.limit, afterSeq: afterSeq(query.cursor) });
      return { status: 200, body: { data: rows.map(attemptJson), nextCursor } };
    },
  });

  routes.add({
    method: 'get',
    path: '/endpoints/:id/attempts',
    tag: 'Attempts',
    summary: 'Every delivery attempt to this endpoint, newest first',
    tenant: { access: 'read', scope: 'endpoint' },
    params: IdParams,
    query: AttemptQuery,
    responses: { 200: { description: 'A page of attempts.', schema: List(Attempt) }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, query }) => {
      if (!(await getEndpoint(db, params.id))) throw notFound('endpoint');
      const { rows, nextCursor } = await listAttempts(db, { endpointId: params.id, status: query.status, since: query.since, until: query.until, limit: query.limit, afterSeq: afterSeq(query.cursor) });
      return { status: 200, body: { data: rows.map(attemptJson), nextCursor } };
    },
  });

  routes.add({
    method: 'get',
    path: '/attempts/:id',
    tag: 'Attempts',
    summary: 'One attempt with the request sent (URL, headers, body) and the response received (status, headers, body)',
    tenant: { access: 'read', scope: 'attempt' },
    params: IdParams,
    responses: { 200: { description: 'The attempt.', schema: AttemptDetail }, 404: { description: 'No such attempt.' } },
    handler: async ({ params }) => {
      const attempt = await getAttempt(db, params.id);
      const message = attempt && (await getMessageForDelivery(db, attempt.message_id));
      if (!attempt || !message) throw notFound('attempt');
      // The body is rebuilt, not stored: it is the message's envelope, identical on every attempt.
      const { body } = webhookRequest({ id: message.id, type: message.event_type, tenantId: message.tenant_id, createdAt: message.created_at, payloadJson: message.payload }, []);
      return {
        status: 200,
        body: {
          ...attemptJson(attempt),
          // Recorded masked (since migration 0008 also those recorded before); masked again here, by construction.
          request: { url: attempt.url, headers: attempt.request_headers && maskHeaders(attempt.request_headers), body },
          response: { statusCode: attempt.status_code, headers: attempt.response_headers, body: attempt.response_body },
        },
      };
    },
  });
}
