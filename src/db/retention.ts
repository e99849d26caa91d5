import type { Db } from './pool';

export type PurgeCounts = { messages: number; deliveries: number; attempts: number };

/** Messages per batch, and rows per DELETE of their attempts and deliveries. */
export const PURGE_BATCH = 1_000;
const CHILD_CHUNK = 5_000;

/** A message that still has a pending delivery is kept, however old: its delivery still needs it. */
const NOTHING_PENDING = "NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'pending')";

/**
 * Retention: one batch of the oldest messages created before `before`, with their attempts and
 * deliveries. Every statement commits on its own and touches a bounded number of rows, so no lock is
 * held for long: a message fanned out to thousands of endpoints has its children deleted a chunk at a
 * time before the message itself (the ON DELETE CASCADE then finds nothing left, or only an attempt
 * recorded meanwhile). `more` says whether the batch was full, i.e. whether to call again.
 *
 * A message with a pending delivery is never deleted: not picked, and checked again at its own DELETE,
 * so a redelivery or recovery that claimed a row of it meanwhile keeps it (its pending row too).
 */
export async function purgeMessagesBefore(db: Db, before: Date, batch = PURGE_BATCH): Promise<PurgeCounts & { more: boolean }> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM messages WHERE created_at < $1 AND ${NOTHING_PENDING} ORDER BY created_at LIMIT $2`,
    [before, batch],
  );
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return { messages: 0, deliveries: 0, attempts: 0, more: false };
  const attempts = await deleteInChunks(
    db,
    'DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE message_id = ANY($1) LIMIT $2)',
    ids,
  );
  const deliveries = await deleteInChunks(
    db,
    `DELETE FROM deliveries WHERE (message_id, endpoint_id) IN
       (SELECT message_id, endpoint_id FROM deliveries WHERE message_id = ANY($1) AND status <> 'pending' LIMIT $2)`,
    ids,
  );
  const { rowCount } = await db.query(`DELETE FROM messages WHERE id = ANY($1) AND created_at < $2 AND ${NOTHING_PENDING}`, [ids, before]);
  return { messages: rowCount ?? 0, deliveries, attempts, more: ids.length === batch };
}

async function deleteInChunks(db: Db, sql: string, ids: string[]): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(sql, [ids, CHILD_CHUNK]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < CHILD_CHUNK) return total;
  }
}
