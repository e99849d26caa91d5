import type { Db } from './pool';
import { page } from './cursor';

export type MessageRow = {
  seq: string;
  id: string;
  tenant_id: string;
  event_type: string;
  /** The payload's JSON text as stored (src/db/pool.ts reads json columns as text). */
  payload: string;
  channels: string[];
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
};

export type NewMessage = { id: string; tenantId: string; eventType: string; payloadJson: string; channels: string[] };

/**
 * Stores the message unless its id is taken. Returns the stored row and whether this call created it,
 * so a repeated id gets the first message back instead of a second one.
 */
export async function insertMessage(db: Db, m: NewMessage): Promise<{ row: MessageRow; created: boolean }> {
  const inserted = await db.query<MessageRow>(
    `INSERT INTO messages (id, tenant_id, event_type, payload, channels) VALUES ($1, $2, $3, $4::json, $5)
     ON CONFLICT (id) DO NOTHING RETURNING *`,
    [m.id, m.tenantId, m.eventType, m.payloadJson, m.channels],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const existing = await getMessage(db, m.id);
  if (!existing) throw new Error(`message ${m.id} conflicted on insert but cannot be read`);
  return { row: existing, created: false };
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
    `SELECT d.* FROM unnest($1::text[]) AS m(id)
     CROSS JOIN LATERAL (SELECT * FROM deliveries WHERE message_id = m.id ORDER BY endpoint_id LIMIT $2) d`,
    [messageIds, limit + 1],
  );
  return rows;
}

/** One page of a message's deliveries, by endpoint id (the primary key's order), after `afterEndpointId`. */
export async function deliveryPage(
  db: Db,
  q: { messageId: string; status?: DeliveryStatus; afterEndpointId?: string; limit: number },
): Promise<DeliveryRow[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT * FROM deliveries
     WHERE message_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR endpoint_id > $3)
     ORDER BY endpoint_id LIMIT $4`,
    [q.messageId, q.status ?? null, q.afterEndpointId ?? null, q.limit + 1],
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
 * Records that a message goes to these endpoints, so GET /events/:id lists them as pending at once.
 * With `page` (the fan-out page's afterSeq, 0 for the first), the rows are the page's: a page resolved
 * again drops, in the same statement, the rows its earlier resolution made for endpoints it no longer
 * resolves to (disabled or deleted in between) that no delivery run has claimed, since the workflow
 * never received that earlier resolution and starts no delivery for them.
 */
export async function createDeliveries(db: Db, messageId: string, endpointIds: string[], page?: string): Promise<void> {
  if (page === undefined) {
    if (endpointIds.length === 0) return;
    await db.query(
      `INSERT INTO deliveries (message_id, endpoint_id)
       SELECT $1, unnest($2::text[]) ON CONFLICT (message_id, endpoint_id) DO NOTHING`,
      [messageId, endpointIds],
    );
    return;
  }
  await db.query(
    `WITH dropped AS (
       DELETE FROM deliveries WHERE message_id = $1 AND page_after_seq = $3 AND run_id IS NULL AND status = 'pending'
         AND endpoint_id <> ALL ($2::text[])
     )
     INSERT INTO deliveries (message_id, endpoint_id, page_after_seq)
     SELECT $1, unnest($2::text[]), $3 ON CONFLICT (message_id, endpoint_id) DO NOTHING`,
    [messageId, endpointIds, page],
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

/** One page of an endpoint's failed deliveries that failed within [since, until), oldest first. */
export async function failedDeliveries(
  db: Db,
  q: { endpointId: string; since: string; until: string | null; after?: { updatedAt: string; messageId: string }; limit: number },
): Promise<FailedDelivery[]> {
  const { rows } = await db.query<FailedDelivery>(
    `SELECT d.message_id AS "messageId", m.tenant_id AS "tenantId", m.event_type AS "eventType",
            to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "updatedAt"
     FROM deliveries d JOIN messages m ON m.id = d.message_id
     WHERE d.endpoint_id = $1 AND d.status = 'failed' AND d.updated_at >= $2::timestamptz
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
