import type { Db } from './pool';
import { FIFO_FOR } from './queues';

export type RoutedPage = {
  /** Unordered deliveries: the message workflow starts one run each. */
  unordered: string[];
  /** FIFO deliveries, waiting in their queues (`orderingKey`: the message's key, '' for none). */
  fifo: string[];
  orderingKey: string;
  /** Set when the page was full: the next page starts after this endpoint. */
  nextAfterSeq?: string;
  /** The last page was routed: the message no longer holds FIFO queues of its tenant back. */
  routed: boolean;
  /** The tenant has (or had) a FIFO endpoint, so queues may wait for this message. */
  tenantHasFifo: boolean;
};

/**
 * One page of a message's routing, in one statement: the tenant's enabled endpoints that take the event's
 * type and share a channel (up to `limit`), recorded as pending deliveries — a FIFO one at its message's
 * place in its queue, whose row it makes sure of — and, on the last page, the message taken off `unrouted_messages`. A repeat (a
 * retried activity) records nothing twice and answers the same.
 */
export async function routeMessagePage(
  db: Db,
  q: { messageId: string; tenantId: string; eventType: string; channels: string[]; afterSeq?: string; limit: number },
): Promise<RoutedPage> {
  const { rows } = await db.query<{ id: string | null; seq: string | null; fifo: boolean | null; ordering_key: string; tenant_fifo: boolean }>(
    `WITH m AS (SELECT seq, COALESCE(ordering_key, '') AS key FROM messages WHERE id = $6),
     e AS (
       SELECT ep.id, ep.seq, ${FIFO_FOR('m.seq', 'ep')} AS fifo FROM endpoints ep CROSS JOIN m
       WHERE ep.tenant_id = $1 AND NOT ep.disabled
         AND (cardinality(ep.event_types) = 0 OR $2 = ANY (ep.event_types))
         AND (cardinality(ep.channels) = 0 OR ep.channels && $3::text[])
         AND ($4::bigint IS NULL OR ep.seq < $4)
       ORDER BY ep.seq DESC LIMIT $5
     ),
     recorded AS (
       INSERT INTO deliveries (message_id, endpoint_id, queue_key, queue_seq)
       SELECT $6, e.id, CASE WHEN e.fifo THEN m.key END, CASE WHEN e.fifo THEN m.seq END FROM e CROSS JOIN m
       ON CONFLICT (message_id, endpoint_id) DO NOTHING
     ),
     queued AS (
       INSERT INTO fifo_queues (endpoint_id, ordering_key, tenant_id) SELECT e.id, m.key, $1 FROM e CROSS JOIN m WHERE e.fifo
       ON CONFLICT (endpoint_id, ordering_key) DO NOTHING
     ),
     routed AS (DELETE FROM unrouted_messages WHERE message_id = $6 AND (SELECT count(*) FROM e) < $5)
     SELECT e.id, e.seq::text AS seq, e.fifo, COALESCE((SELECT key FROM m), '') AS ordering_key,
            EXISTS (SELECT 1 FROM endpoints WHERE tenant_id = $1 AND (ordering = 'fifo' OR previous_ordering = 'fifo')) AS tenant_fifo
     FROM (SELECT 1) one LEFT JOIN e ON true
     ORDER BY e.seq DESC`,
    [q.tenantId, q.eventType, q.channels, q.afterSeq ?? null, q.limit, q.messageId],
  );
  const found = rows.filter((r) => r.id !== null);
  const first = rows[0]!;
  return {
    unordered: found.filter((r) => !r.fifo).map((r) => r.id!),
    fifo: found.filter((r) => r.fifo).map((r) => r.id!),
    orderingKey: first.ordering_key,
    nextAfterSeq: found.length === q.limit ? found[found.length - 1]!.seq! : undefined,
    // A repeat of the last page finds the row already gone; it is routed all the same.
    routed: found.length < q.limit,
    tenantHasFifo: first.tenant_fifo,
  };
}

/** A message whose workflow ended before routing it will never be routed: it stops holding FIFO queues back. */
export async function forgetUnrouted(db: Db, messageId: string): Promise<void> {
  await db.query('DELETE FROM unrouted_messages WHERE message_id = $1', [messageId]);
}
