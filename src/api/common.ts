import { z } from './zod';
import { decodeCursor } from '../db/cursor';
import { EVENT_TYPE, MESSAGE_ID, TENANT_ID } from '../lib/ids';
import { parseDuration } from '../lib/duration';
import { ApiError } from './errors';

/** Schema pieces several resources share: ids, paging, durations. */
export const TenantId = z.string().regex(TENANT_ID, 'must match ^[A-Za-z0-9_-]{1,64}$');
export const EventTypeName = z.string().regex(EVENT_TYPE, 'must match ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$');
// `.` and `..` (and longer runs of dots) are path segments every HTTP client rewrites: `/events/.` would
// reach the list, not the event, so the contract refuses ids made of dots alone.
export const MessageId = z
  .string()
  .regex(MESSAGE_ID, 'must match ^[A-Za-z0-9_.:-]{1,128}$')
  .refine((id) => !/^\.+$/.test(id), 'must not be made of dots alone');
export const Channel = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must match ^[A-Za-z0-9_.:-]{1,128}$');
export const Channels = z.array(Channel).max(10).openapi({ description: 'At most 10 channels.' });
export const OrderingKey = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must match ^[A-Za-z0-9_.:-]{1,128}$');
export const Timestamp = z.string().openapi({ format: 'date-time' });

export const Duration = z
  .string()
  .refine((text) => {
    const ms = parseDuration(text);
    return ms !== undefined && ms >= 1 && ms <= 86_400_000;
  }, 'must be a duration from 1ms to 1d, such as 250ms, 30s, 5m, 2h or 1d')
  .openapi({ example: '10s' });

/**
 * NUL and UTF-16 surrogates without their partner: Postgres text and jsonb cannot hold them (a NUL is an
 * error, a lone surrogate an error in jsonb and a silent U+FFFD in text), so they are refused up front.
 */
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_MESSAGE = 'must not contain NUL or unpaired surrogate characters';

export function storable(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/** Free text kept in a text column. */
export const Text = z.string().refine(storable, UNSTORABLE_MESSAGE);

export const IdParams = z.object({ id: Text.min(1).max(256) });

/** Cursors carry a bigint seq; a larger number is not one this API returned (and Postgres would refuse it). */
const MAX_SEQ = 2n ** 63n - 1n;

function cursorSeq(cursor: string): string | undefined {
  const seq = decodeCursor(cursor);
  return seq !== undefined && BigInt(seq) <= MAX_SEQ ? seq : undefined;
}

export const Paging = {
  limit: z.coerce.number().int().min(1).max(250).default(50),
  cursor: z
    .string()
    .max(64)
    .optional()
    .refine((c) => c === undefined || cursorSeq(c) !== undefined, 'is not a cursor this API returned'),
};

/** An ISO-8601 instant with its offset, as the recover window takes. */
export const Instant = z.iso.datetime({ offset: true }).openapi({ format: 'date-time', example: '2026-11-23T00:00:00Z' });

/** A time window on a list: createdAt in [since, until). */
export const TimeWindow = {
  since: Instant.optional().openapi({ description: 'Only those created at or after this instant.' }),
  until: Instant.optional().openapi({ description: 'Only those created before this instant.' }),
};

export const List = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export function afterSeq(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : cursorSeq(cursor);
}

/** Nesting deeper than this is refused: it only serves to exhaust parsers, ours and the receivers'. */
export const MAX_JSON_DEPTH = 64;

/**
 * A JSON object kept in a jsonb column (metadata, event-type schemas). The depth check runs first and
 * stops there: JSON.stringify and Postgres both recurse, and a few thousand levels overflow their stacks.
 */
export const JsonObject = z
  .record(z.string(), z.unknown())
  .refine((value) => jsonDepth(value) <= MAX_JSON_DEPTH, { message: `must nest at most ${MAX_JSON_DEPTH} levels`, abort: true })
  .refine(storableJson, { message: `keys and strings ${UNSTORABLE_MESSAGE}`, abort: true });

function storableJson(value: unknown): boolean {
  const stack = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string' && !storable(current)) return false;
    if (current === null || typeof current !== 'object') continue;
    for (const [key, child] of Object.entries(current)) {
      if (!storable(key)) return false;
      stack.push(child);
    }
  }
  return true;
}

export function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > max) max = depth;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return max;
}

export function byteLength(json: string): number {
  return Buffer.byteLength(json, 'utf8');
}

export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `The payload is larger than MAX_PAYLOAD_BYTES (${limit} bytes).`);
}
