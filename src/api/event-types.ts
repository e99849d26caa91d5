import { z } from './zod';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { listEventTypes, upsertEventType, type EventTypeRow } from '../db/event-types';
import type { ApiDeps } from './deps';
import { EventTypeName, Timestamp } from './common';
import { validationFailed } from './errors';
import type { Routes } from './route';

const EventTypeBody = z
  .object({
    description: z.string().max(1024).optional(),
    schema: z.record(z.string(), z.unknown()).optional().openapi({ description: 'A JSON Schema (2020-12) that payloads of this type must match.' }),
  })
  .strict();

const EventType = z
  .object({ name: z.string(), description: z.string(), schema: z.record(z.string(), z.unknown()).nullable(), createdAt: Timestamp, updatedAt: Timestamp })
  .openapi('EventType');

function eventTypeJson(t: EventTypeRow) {
  return { name: t.name, description: t.description, schema: t.schema, createdAt: t.created_at.toISOString(), updatedAt: t.updated_at.toISOString() };
}

export function eventTypeRoutes(routes: Routes, { db }: ApiDeps): void {
  const ajv = new Ajv2020({ strict: false });

  routes.add({
    method: 'put',
    path: '/event-types/:name',
    tag: 'Event types',
    summary: 'Create or replace an event type, optionally with a JSON Schema for its payloads',
    params: z.object({ name: EventTypeName }),
    body: EventTypeBody,
    responses: { 200: { description: 'Replaced.', schema: EventType }, 201: { description: 'Created.', schema: EventType } },
    handler: async ({ params, body }) => {
      if (body.schema) {
        try {
          ajv.compile(body.schema);
        } catch (err) {
          throw validationFailed('The schema is not a valid JSON Schema.', [{ path: 'body.schema', message: (err as Error).message }]);
        }
      }
      const { row, created } = await upsertEventType(db, { name: params.name, description: body.description ?? '', schema: body.schema ?? null });
      return { status: created ? 201 : 200, body: eventTypeJson(row) };
    },
  });

  routes.add({
    method: 'get',
    path: '/event-types',
    tag: 'Event types',
    summary: 'Every event type',
    responses: { 200: { description: 'The event types.', schema: z.object({ data: z.array(EventType) }) } },
    handler: async () => ({ status: 200, body: { data: (await listEventTypes(db)).map(eventTypeJson) } }),
  });
}
