import type { Db } from './pool';
import { page } from './cursor';
import { ORDER_LOCK } from './queues';

export type MessageRow = {
  seq: string;
  id: string;
  tenant_id: string;
  event_type: string;
  /** The payload's JSON text as stored (src/db/pool.ts reads json columns as text). */
  payload: string;
  channels: string[];
  ordering_key: string | null;
  workflow_started: boolean;
  created_at: Date;
};

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export type DeliveryRow = {
  message_id: string;
  endpoint_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  failure_reason: string | null;
  /** A FIFO delivery's queue key ('' for no orderingKey); null for an unordered delivery. */
  queue_key: string | null;
  /** On a FIFO endpoint, the message a pending delivery waits behind (src/db/queues.ts); else null. */
  waiting_for: string | null;
};

export type NewMessage = {
  id: string;
  tenantId: string;
  eventType: string;
  payloadJson: string;
  channels: string[];
  orderingKey?: string | null;
  /** Its deliveries are recorded by the caller (a test send), not routed by a message workflow. */
  routed?: boolean;
};

/**
 * Stores the message unless its id is taken. Returns the stored row and whether this call created it,
 * so a repeated id gets the first message back instead of a second one. Its seq, drawn here, is its place
 * in its tenant's order; it is drawn under the tenant's order lock (shared), so a FIFO queue's fence can
 * wait for every seq drawn before its own candidate's (src/db/queues.ts). Until its message workflow has
 * routed it, it holds back FIFO queues it may join (unrouted_messages).
 */
export async function insertMessage(db: Db, m: NewMessage): Promise<{ row: MessageRow; created: boolean }> {
  const inserted = await db.query<MessageRow>(
    `WITH fence AS (SELECT pg_advisory_xact_lock_shared($7, hashtext($2))),
     ins AS (
       INSERT INTO messages (id, tenant_id, event_type, payload, channels, ordering_key)
       SELECT $1::text, $2::text, $3::text, $4::json, $5::text[], $6::text FROM fence
       ON CONFLICT (id) DO NOTHING RETURNING *
     ),
     unrouted AS (
       INSERT INTO unrouted_messages (message_id, tenant_id, seq, ordering_key) SELECT id, tenant_id, seq, ordering_key FROM ins WHERE NOT $8
     )
     SELECT * FROM ins`,
    [m.id, m.tenantId, m.eventType, m.payloadJson, m.channels, m.orderingKey ?? null, ORDER_LOCK, m.routed ?? false],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const existing = await getMessage(db, m.id);
  if (!existing) throw new Error(`message ${m.id} conflicted on insert but cannot be read`);
  return { row: existing, created: false };
}

/**
 * A message whose workflow never started (its POST answered 503) is being sent again: it takes a new place
 * at the back of its tenant's order, as the 202 it is about to get does. A message already routed keeps its.
 */
export async function retakePlace(db: Db, id: string, tenantId: string): Promise<void> {
  await db.query(
    `WITH fence AS (SELECT pg_advisory_xact_lock_shared($2, hashtext($3))),
     moved AS (
       UPDATE messages m SET seq = DEFAULT FROM fence
       WHERE m.id = $1 AND NOT m.workflow_started AND EXISTS (SELECT 1 FROM unrouted_messages u WHERE u.message_id = $1)
       RETURNING m.seq
     )
     UPDATE unrouted_messages u SET seq = moved.seq, since = now() FROM moved WHERE u.message_id = $1`,
    [id, ORDER_LOCK, tenantId],
  );
}

export async function markWorkflowStarted(db: Db, id: string): Promise<void> {
  await db.query('UPDATE messages SET workflow_started = true WHERE id = $1 AND NOT workflow_started', [id]);
}

export async function getMessage(db: Db, id: string): Promise<MessageRow | undefined> {
  const { rows } = await db.query<MessageRow>('SELECT * FROM messages WHERE id = $1', [id]);
  return rows[0];
}

/** What the delivery activity needs, with the payload as its stored text so the signed body is exact. */
export async function getMessageForDelivery(db: Db, id: string) {
  const { rows } = await db.query<{ id: string; tenant_id: string; event_type: string; payload: string; created_at: Date }>(
    'SELECT id, tenant_id, event_type, payload::text AS payload, created_at FROM messages WHERE id = $1',
    [id],
  );
  return rows[0];
}

/** A message matches a status when one of its deliveries has it. */
export async function listMessages(
  db: Db,
  q: { tenantId?: string; eventType?: string; status?: DeliveryStatus; since?: string; until?: string; limit: number; afterSeq?: string },
) {
  const { rows } = await db.query<MessageRow>(
    `SELECT m.* FROM messages m
     WHERE ($1::text IS NULL OR m.tenant_id = $1)
       AND ($2::text IS NULL OR m.event_type = $2)
       AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status = $3))
       AND ($4::bigint IS NULL OR m.seq < $4)
       AND ($6::timestamptz IS NULL OR m.created_at >= $6) AND ($7::timestamptz IS NULL OR m.created_at < $7)
     ORDER BY m.seq DESC LIMIT $5`,
    [q.tenantId ?? null, q.eventType ?? null, q.status ?? null, q.afterSeq ?? null, q.limit + 1, q.since ?? null, q.until ?? null],
  );
  return page(rows, q.limit);
}

/**
 * The first `limit` deliveries of each message, by endpoint id, and one more where there is one, so
 * the caller knows whether to hand out a cursor: a message fanned out to thousands of endpoints is
 * never read whole.
 */
export async function firstDeliveries(db: Db, messageIds: string[], limit: number): Promise<DeliveryRow[]> {
  if (messageIds.length === 0) return [];
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.*, ${WAITING_FOR} FROM unnest($1::text[]) WITH ORDINALITY AS m(id, n)
     CROSS JOIN LATERAL (SELECT * FROM deliveries WHERE message_id = m.id ORDER BY endpoint_id LIMIT $2) d
     LEFT JOIN fifo_queues q ON q.endpoint_id = d.endpoint_id AND q.ordering_key = d.queue_key
     ORDER BY m.n, d.endpoint_id`,
    [messageIds, limit + 1],
  );
  return rows;
}

/**
 * A waiting FIFO delivery waits behind its queue's head (the delivery that holds the turn), or, while none
 * does, behind the earlier message of its tenant still being routed, or the one whose delivery held the turn
 * last (the endpoint is disabled). Needs `deliveries d` and `fifo_queues q` of its queue.
 */
const WAITING_FOR = `CASE WHEN d.queue_key IS NOT NULL AND d.status = 'pending' AND q.head_message_id IS DISTINCT FROM d.message_id
  THEN NULLIF(COALESCE(q.head_message_id, q.blocked_by, q.last_message_id), d.message_id) END AS waiting_for`;

/** One page of a message's deliveries, by endpoint id (the primary key's order), after `afterEndpointId`. */
export async function deliveryPage(
  db: Db,
  q: { messageId: string; status?: DeliveryStatus; afterEndpointId?: string; limit: number; unorderedOnly?: boolean },
): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.*, ${WAITING_FOR} FROM deliveries d
     LEFT JOIN fifo_queues q ON q.endpoint_id = d.endpoint_id AND q.ordering_key = d.queue_key
     WHERE d.message_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.endpoint_id > $3)
       AND (NOT $5 OR d.queue_key IS NULL)
     ORDER BY d.endpoint_id LIMIT $4`,
    [q.messageId, q.status ?? null, q.afterEndpointId ?? null, q.limit + 1, q.unorderedOnly ?? false],
  );
  return rows;
}

export type DeliverySummary = Record<DeliveryStatus, number>;

/** How many deliveries of each message are in each status. */
export async function deliverySummaries(db: Db, messageIds: string[]): Promise<Map<string, DeliverySummary>> {
  const summaries = new Map<string, DeliverySummary>(messageIds.map((id) => [id, { pending: 0, succeeded: 0, failed: 0 }]));
  if (messageIds.length === 0) return summaries;
  const { rows } = await db.query<{ message_id: string; status: DeliveryStatus; n: number }>(
    `SELECT message_id, status, count(*)::int AS n FROM deliveries WHERE message_id = ANY ($1::text[]) GROUP BY message_id, status`,
    [messageIds],
  );
  for (const row of rows) summaries.get(row.message_id)![row.status] = row.n;
  return summaries;
}

/** The delivery of a message to one endpoint, if the message went there. */
export async function getDelivery(db: Db, messageId: string, endpointId: string): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>('SELECT * FROM deliveries WHERE message_id = $1 AND endpoint_id = $2', [messageId, endpointId]);
  return rows[0];
}

/**
 * Records that a message goes to these endpoints, so GET /events/:id lists them as pending at once (a test
 * send). A message workflow records its pages with recordRoutedPage (src/db/routing.ts).
 */
export async function createDeliveries(db: Db, messageId: string, endpointIds: string[]): Promise<void> {
  if (endpointIds.length === 0) return;
  await db.query(
    `INSERT INTO deliveries (message_id, endpoint_id)
     SELECT $1, unnest($2::text[]) ON CONFLICT (message_id, endpoint_id) DO NOTHING`,
    [messageId, endpointIds],
  );
}

export type FailedDelivery = { messageId: string; tenantId: string; eventType: string; updatedAt: string };

/** How many deliveries a message has, and how many of them are still pending. */
export async function deliveryCounts(db: Db, messageId: string): Promise<{ total: number; pending: number }> {
  const { rows } = await db.query<{ total: number; pending: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'pending')::int AS pending FROM deliveries WHERE message_id = $1`,
    [messageId],
  );
  return rows[0] ?? { total: 0, pending: 0 };
}

/**
 * One page of an endpoint's failed unordered deliveries that failed within [since, until), oldest first.
 * FIFO ones are queued again in their messages' order instead (requeueFailed in src/db/queues.ts).
 */
export async function failedDeliveries(
  db: Db,
  q: { endpointId: string; since: string; until: string | null; after?: { updatedAt: string; messageId: string }; limit: number },
): Promise<FailedDelivery[]> {
  const { rows } = await db.query<FailedDelivery>(
    `SELECT d.message_id AS "messageId", m.tenant_id AS "tenantId", m.event_type AS "eventType",
            to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "updatedAt"
     FROM deliveries d JOIN messages m ON m.id = d.message_id
     WHERE d.endpoint_id = $1 AND d.status = 'failed' AND d.queue_key IS NULL AND d.updated_at >= $2::timestamptz
       AND ($3::timestamptz IS NULL OR d.updated_at < $3::timestamptz)
       AND ($4::timestamptz IS NULL OR (d.updated_at, d.message_id) > ($4::timestamptz, $5::text))
     ORDER BY d.updated_at, d.message_id LIMIT $6`,
    [q.endpointId, q.since, q.until, q.after?.updatedAt ?? null, q.after?.messageId ?? null, q.limit],
  );
  return rows;
}

export async function countFailedDeliveries(db: Db, q: { endpointId: string; since: string; until: string | null }): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries
     WHERE endpoint_id = $1 AND status = 'failed' AND updated_at >= $2::timestamptz AND ($3::timestamptz IS NULL OR updated_at < $3::timestamptz)`,
    [q.endpointId, q.since, q.until],
  );
  return rows[0]!.n;
}

/** Marks these deliveries pending again before their redelivery starts. */
export async function resetDeliveries(db: Db, endpointId: string, messageIds: string[]): Promise<void> {
  await db.query(
    `UPDATE deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = now()
     WHERE endpoint_id = $1 AND message_id = ANY ($2::text[])`,
    [endpointId, messageIds],
  );
}
