import { z } from './zod';
import { decodeKeyCursor, encodeKeyCursor } from '../db/cursor';
import { endpointQueues } from '../db/queues';
import type { EndpointRow } from '../db/endpoints';
import type { ApiDeps } from './deps';
import { IdParams, Paging } from './common';
import type { Routes } from './route';

const Queue = z
  .object({
    orderingKey: z.string().nullable().openapi({ description: 'The orderingKey of its messages; null for messages without one.' }),
    waiting: z.number().int().openapi({ description: 'Deliveries waiting for their turn.' }),
    state: z.enum(['delivering', 'held', 'blocked', 'starting']).openapi({
      description: '`delivering`: `head` is being delivered (or retried); `held`: the endpoint is disabled; `blocked`: an earlier message of the tenant is still being routed (`waitingFor`); `starting`: the next delivery is being given its turn.',
    }),
    head: z.string().nullable().openapi({ description: 'The message whose delivery holds the queue: every waiting one waits for it to end.' }),
    next: z.string().nullable().openapi({ description: 'The first message waiting.' }),
    waitingFor: z.string().nullable().openapi({ description: 'What the waiting messages wait behind, as each one\'s `waitingFor` in GET /events/{id} says.' }),
  })
  .openapi('FifoQueue');

const EndpointQueue = z
  .object({
    endpointId: z.string(),
    ordering: z.enum(['unordered', 'fifo']),
    waiting: z.number().int().openapi({ description: 'Deliveries waiting for their turn, in all the endpoint\'s queues.' }),
    queues: z.array(Queue).openapi({ description: 'One queue per orderingKey with work, by key (messages without a key first).' }),
    nextCursor: z.string().nullable(),
  })
  .openapi('EndpointQueue');

const QueueCursor = z.string().max(400).refine((c) => decodeKeyCursor(c) !== undefined, 'is not a cursor this API returned');

/**
 * `GET /endpoints/:id/queue`: a FIFO endpoint's queues, for the portal, the CLI and operators. An endpoint
 * made unordered keeps its queues until the messages accepted before the change are delivered.
 */
export function queueRoutes(routes: Routes, { db }: ApiDeps, load: (id: string) => Promise<EndpointRow>): void {
  routes.add({
    method: 'get',
    path: '/endpoints/:id/queue',
    tag: 'Endpoints',
    tenant: { access: 'read', scope: 'endpoint' },
    summary: "An endpoint's FIFO queues: how many deliveries wait, and what each queue waits for",
    params: IdParams,
    query: z.object({ limit: Paging.limit, cursor: QueueCursor.optional() }),
    responses: { 200: { description: 'The queues.', schema: EndpointQueue }, 404: { description: 'No such endpoint.' } },
    handler: async ({ params, query }) => {
      const endpoint = await load(params.id);
      const afterKey = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor);
      const { waiting, queues } = await endpointQueues(db, endpoint.id, { afterKey, limit: query.limit });
      const kept = queues.slice(0, query.limit);
      return {
        status: 200,
        body: {
          endpointId: endpoint.id,
          ordering: endpoint.ordering,
          waiting,
          queues: kept.map((q) => ({
            orderingKey: q.orderingKey === '' ? null : q.orderingKey,
            waiting: q.waiting,
            state: q.head ? 'delivering' : endpoint.disabled ? 'held' : q.blockedBy ? 'blocked' : 'starting',
            head: q.head,
            next: q.nextMessageId,
            waitingFor: q.head ?? q.blockedBy ?? q.last,
          })),
          nextCursor: queues.length > query.limit ? encodeKeyCursor(kept[kept.length - 1]!.orderingKey) : null,
        },
      };
    },
  });
}
