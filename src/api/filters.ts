import type { Request } from 'express';
import { z } from './zod';
import { compileFilter, FilterError, parseExactJson, type Match } from '../filters/filter';
import type { ApiDeps } from './deps';
import { MAX_JSON_DEPTH, jsonDepth } from './common';
import { validationFailed } from './errors';
import { bodyValueText } from './payload';
import type { Routes } from './route';

// Checked before the filter's text is read again exactly: JSON.parse took any depth, the exact reader recurses.
const shallow = (value: unknown) => jsonDepth(value) <= MAX_JSON_DEPTH;

/** An endpoint's filter in a request body; its exact text is read from the raw body (filterText). */
export const FilterBody = z
  .record(z.string(), z.unknown())
  .refine(shallow, { message: `must nest at most ${MAX_JSON_DEPTH} levels`, abort: true })
  .openapi('Filter', {
    description:
      'A JSON filter (Hookdeck\'s and Convoy\'s syntax, at most 8 KiB) matched against the event as its receiver gets it, plus "channels": '
      + 'an object matches when each key matches; a plain value matches an equal value or an array containing it; operators $eq $neq $gt $gte '
      + '$lt $lte $in $nin $startsWith $endsWith $exist $and $or $not. Numbers compare by exact value. See docs/filters.md.',
    example: { type: 'invoice.paid', data: { amount: { $gte: 1000 }, currency: { $in: ['EUR', 'USD'] } } },
  });

/**
 * The filter in `body.filter`, as JSON text written as the request wrote it (so its numbers keep their
 * digits), and compiled. A 422 names each problem's path: an unknown operator, an operand of the wrong
 * kind, more than 8 KiB.
 */
export function readFilter(req: Request): { text: string; match: Match } {
  const text = bodyValueText(req, 'filter');
  if (text === undefined) throw new Error('readFilter called on a body without a filter');
  try {
    return { text, match: compileFilter(text, 'body.filter') };
  } catch (err) {
    if (err instanceof FilterError) throw validationFailed('The filter is not valid.', err.problems);
    throw err;
  }
}

const FilterTest = z
  .object({
    filter: FilterBody,
    event: z
      .record(z.string(), z.unknown())
      .refine(shallow, { message: `must nest at most ${MAX_JSON_DEPTH} levels`, abort: true })
      .openapi({ description: 'The event as a receiver gets it: {"id", "type", "tenantId", "timestamp", "data"}, plus "channels".' }),
  })
  .strict();

export function filterRoutes(routes: Routes, _deps: ApiDeps): void {
  routes.add({
    method: 'post',
    path: '/filters/test',
    tag: 'Endpoints',
    // `read`: it changes nothing and shows nothing of any tenant; the portal's filter editor calls it as one types.
    tenant: { access: 'read', scope: 'shared' },
    summary: 'Does this filter match this event?',
    body: FilterTest,
    responses: {
      200: { description: 'Whether the filter matches the event.', schema: z.object({ matches: z.boolean() }).openapi('FilterTestResult') },
      422: { description: 'The filter is not valid: `details` names each problem\'s path.' },
    },
    handler: ({ req }) => {
      const { match } = readFilter(req);
      const event = parseExactJson(bodyValueText(req, 'event')!);
      return { status: 200, body: { matches: match(event) } };
    },
  });
}
