/**
 * Opaque page cursors: the `seq` of the last row returned. Keyset paging on an indexed column stays
 * fast however deep the page, unlike OFFSET.
 */
export function encodeCursor(seq: string): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

/** The seq a cursor stands for, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^s:(\d{1,19})$/.exec(text);
  return match?.[1];
}

/** Rows fetched one past the limit tell whether a next page exists without a COUNT. */
export function page<T extends { seq: string }>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const kept = rows.slice(0, limit);
  return { rows: kept, nextCursor: encodeCursor(kept[kept.length - 1]!.seq) };
}

/**
 * Cursors of lists keyed by a text id instead of a seq (a message's deliveries, ordered by endpoint id):
 * the last id returned, opaque like the others.
 */
export function encodeIdCursor(id: string): string {
  return Buffer.from(`i:${id}`).toString('base64url');
}

export function decodeIdCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^i:([A-Za-z0-9_.:-]{1,256})$/.exec(text);
  return match?.[1];
}

/** Cursors of lists keyed by an ordering key (an endpoint's FIFO queues), the empty key included. */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

export function decodeKeyCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^k:([A-Za-z0-9_.:-]{0,128})$/.exec(text);
  return match?.[1];
}
