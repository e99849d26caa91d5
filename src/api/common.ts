import { z } from './zod';
import { decodeCursor } from '../db/cursor';
import { EVENT_TYPE, MESSAGE_ID, TENANT_ID } from '../ids';
import { parseDuration } from '../duration';
import { ApiError } from './errors';

/** Schema pieces several resources share: ids, paging, durations. */
export const TenantId = z.string().regex(TENANT_ID, 'must match ^[A-Za-z0-9_-]{1,64}$');
export const EventTypeName = z.string().regex(EVENT_TYPE, 'must match ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$');
export const MessageId = z.string().regex(MESSAGE_ID, 'must match ^[A-Za-z0-9_.:-]{1,128}$');
export const Channel = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must match ^[A-Za-z0-9_.:-]{1,128}$');
export const Channels = z.array(Channel).max(10).openapi({ description: 'At most 10 channels.' });
export const Timestamp = z.string().openapi({ format: 'date-time' });

export const Duration = z
  .string()
  .refine((text) => {
    const ms = parseDuration(text);
    return ms !== undefined && ms >= 1 && ms <= 86_400_000;
  }, 'must be a duration from 1ms to 1d, such as 250ms, 30s, 5m, 2h or 1d')
  .openapi({ example: '10s' });

export const IdParams = z.object({ id: z.string().min(1).max(256) });

export const Paging = {
  limit: z.coerce.number().int().min(1).max(250).default(50),
  cursor: z
    .string()
    .max(64)
    .optional()
    .refine((c) => c === undefined || decodeCursor(c) !== undefined, 'is not a cursor this API returned'),
};

export const List = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export function afterSeq(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : decodeCursor(cursor);
}

/** Nesting deeper than this is refused: it only serves to exhaust parsers, ours and the receivers'. */
export const MAX_JSON_DEPTH = 64;

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
