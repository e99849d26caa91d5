import type { Db } from './pool';
import { FIFO_FOR } from './queues';

export type RoutedPage = {
  /** Unordered deliveries: the message workflow starts one run each. */
  unordered: string[];
  /** FIFO deliveries, waiting in their queues (`orderingKey`: the message's key, '' for none). */
  fifo: string[];
  orderingKey: string;
  /** The tenant has (or had) a FIFO endpoint, so queues may wait for this message to be routed. */
  tenantHasFifo: boolean;
};

/**
 * Records one page of a message's routing, in one statement: a pending delivery to each endpoint the page
 * resolved to (after filters) — a FIFO one at its message's place in its queue, whose row it makes sure of —
 * and, on the `last` page, takes the message off `unrouted_messages`. `page` is the page's afterSeq ('0' for
 * the first): a page resolved again drops, in the same statement, the rows its earlier resolution made for
 * endpoints it no longer resolves to (disabled or deleted in between) that no delivery run has claimed, since
 * the workflow never received that earlier resolution and starts no delivery for them. A repeat records
 * nothing twice and answers the same.
 */
export async function recordRoutedPage(
  db: Db,
  q: { messageId: string; tenantId: string; endpointIds: string[]; page: string; last: boolean },
): Promise<RoutedPage> {
  const { rows } = await db.query<{ id: string | null; fifo: boolean | null; ordering_key: string | null; tenant_fifo: boolean }>(
    `WITH m AS (SELECT seq, COALESCE(ordering_key, '') AS key FROM messages WHERE id = $1),
     e AS (
       SELECT k.id, COALESCE(${FIFO_FOR('m.seq', 'ep')}, false) AS fifo
       FROM unnest($2::text[]) AS k(id) CROSS JOIN m LEFT JOIN endpoints ep ON ep.id = k.id
     ),
     dropped AS (
       DELETE FROM deliveries WHERE message_id = $1 AND page_after_seq = $3 AND run_id IS NULL AND status = 'pending'
         AND endpoint_id <> ALL ($2::text[])
     ),
     recorded AS (
       INSERT INTO deliveries (message_id, endpoint_id, page_after_seq, queue_key, queue_seq)
       SELECT $1, e.id, $3, CASE WHEN e.fifo THEN m.key END, CASE WHEN e.fifo THEN m.seq END FROM e CROSS JOIN m
       ON CONFLICT (message_id, endpoint_id) DO NOTHING
     ),
     queued AS (
       INSERT INTO fifo_queues (endpoint_id, ordering_key, tenant_id) SELECT e.id, m.key, $4 FROM e CROSS JOIN m WHERE e.fifo
       ON CONFLICT (endpoint_id, ordering_key) DO NOTHING
     ),
     routed AS (DELETE FROM unrouted_messages WHERE message_id = $1 AND $5)
     SELECT e.id, e.fifo, (SELECT key FROM m) AS ordering_key,
            EXISTS (SELECT 1 FROM endpoints WHERE tenant_id = $4 AND (ordering = 'fifo' OR previous_ordering = 'fifo')) AS tenant_fifo
     FROM (SELECT 1) one LEFT JOIN e ON true`,
    [q.messageId, q.endpointIds, q.page, q.tenantId, q.last],
  );
  // An endpoint deleted since it was resolved gets an unordered row all the same: its run ends it as deleted.
  const found = rows.filter((r) => r.id !== null);
  return {
    unordered: found.filter((r) => !r.fifo).map((r) => r.id!),
    fifo: found.filter((r) => r.fifo).map((r) => r.id!),
    orderingKey: rows[0]?.ordering_key ?? '',
    tenantHasFifo: rows[0]?.tenant_fifo ?? false,
  };
}

/** A message whose workflow ended before routing it will never be routed: it stops holding FIFO queues back. */
export async function forgetUnrouted(db: Db, messageId: string): Promise<void> {
  await db.query('DELETE FROM unrouted_messages WHERE message_id = $1', [messageId]);
}
