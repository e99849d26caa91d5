import { z } from './zod';
import safeRegex from 'safe-regex2';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { listEventTypes, upsertEventType, type EventTypeRow } from '../db/event-types';
import type { ApiDeps } from './deps';
import { EventTypeName, JsonObject, Text, Timestamp } from './common';
import { validationFailed } from './errors';
import type { Routes } from './route';

const EventTypeBody = z
  .object({
    description: Text.max(1024).optional(),
    schema: JsonObject.optional().openapi({ description: 'A JSON Schema (2020-12) that payloads of this type must match.' }),
  })
  .strict();

const EventType = z
  .object({ name: z.string(), description: z.string(), schema: z.record(z.string(), z.unknown()).nullable(), createdAt: Timestamp, updatedAt: Timestamp })
  .openapi('EventType');

function eventTypeJson(t: EventTypeRow) {
  return { name: t.name, description: t.description, schema: t.schema, createdAt: t.created_at.toISOString(), updatedAt: t.updated_at.toISOString() };
}

/** Checks schemas against the 2020-12 meta-schema; compiled once, it keeps no schema of ours. */
const metaSchema = new Ajv2020({ strict: false });

/**
 * Compiles an event type's schema on an Ajv instance of its own (a few ms without the meta-schema), so
 * a `$id` used by two types, or by two versions of one, never collides in a shared registry, and
 * replaced schemas do not pile up in one. Throws when the schema is not valid JSON Schema.
 */
/**
 * Every regular expression a schema carries (`pattern`, `patternProperties` keys). Checked before a
 * schema is accepted: one with nested quantifiers (`^(a+)+$`) would let a payload stall POST /events.
 */
function schemaPatterns(schema: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    const record = node as Record<string, unknown>;
    if (typeof record.pattern === 'string') found.push(record.pattern);
    if (record.patternProperties && typeof record.patternProperties === 'object') found.push(...Object.keys(record.patternProperties));
    stack.push(...Object.values(record));
  }
  return found;
}

/** Why a schema cannot be an event type's, or undefined when it can. */
export function schemaProblem(schema: object): string | undefined {
  try {
    if (!metaSchema.validateSchema(schema)) return metaSchema.errorsText(metaSchema.errors);
  } catch (err) {
    return (err as Error).message; // an unknown $schema dialect
  }
  const unsafe = schemaPatterns(schema).find((pattern) => !safeRegex(pattern));
  if (unsafe !== undefined) return `pattern ${JSON.stringify(unsafe)} can take exponential time (nested quantifiers); rewrite it without them`;
  return undefined;
}

export function compileSchema(schema: object): ValidateFunction {
  return new Ajv2020({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
}

export function eventTypeRoutes(routes: Routes, { db }: ApiDeps): void {
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
        let problem = schemaProblem(body.schema);
        if (!problem) {
          try {
            compileSchema(body.schema);
          } catch (err) {
            problem = (err as Error).message;
          }
        }
        if (problem) throw validationFailed('The schema is not a usable JSON Schema.', [{ path: 'body.schema', message: problem }]);
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
    tenant: { access: 'read', scope: 'shared' },
    responses: { 200: { description: 'The event types.', schema: z.object({ data: z.array(EventType) }) } },
    handler: async () => ({ status: 200, body: { data: (await listEventTypes(db)).map(eventTypeJson) } }),
  });
}
