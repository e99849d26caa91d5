import type pg from 'pg';
import type { Db } from './pool';

/**
 * FIFO queues (docs/ordering.md). A FIFO endpoint's deliveries wait in Postgres, one queue per
 * (endpoint, orderingKey), ordered by queue_seq; only the queue's head has a delivery workflow. The turn
 * passes in one transaction that locks the queue's row, so every way a head can end (its run records it,
 * the reconciler, a sweep) hands it on exactly once, and a repeat finds nothing left to do.
 */
export type QueueRef = { endpointId: string; orderingKey: string };

/** A delivery that was given its queue's turn and needs a run: `firstRun` when no run ever claimed it. */
export type Turn = { messageId: string; endpointId: string; tenantId: string; eventType: string; firstRun: boolean };

/**
 * How long an earlier message whose workflow has not started yet (its POST is in flight, or failed with a
 * 503, or its API process died) holds FIFO queues back. The API's start of a message workflow ends well
 * within it; a message whose start never happened was never accepted and stops counting.
 */
export const UNSTARTED_GRACE_SECONDS = 60;

/** A head given the turn this long ago whose run has not claimed it is started again (a start lost to a crash). */
export const UNCLAIMED_TURN_SECONDS = 30;

/** Advisory-lock namespace of a tenant's message order: POST /events takes it shared, a turn's fence exclusive. */
export const ORDER_LOCK = 0x686b66;

/** Whether message `seq` is FIFO for the endpoint `e`: its ordering, or the one before, by ordering_since_seq. */
export const FIFO_FOR = (seq: string, e: string) =>
  `(CASE WHEN ${seq} > ${e}.ordering_since_seq THEN ${e}.ordering ELSE ${e}.previous_ordering END) = 'fifo'`;

type Queryable = Pick<pg.PoolClient, 'query'>;

type QueueState = {
  tenant_id: string;
  head_message_id: string | null;
  head_pending: boolean;
  head_unclaimed: boolean;
  turn_age_s: number | null;
  endpoint_exists: boolean;
  disabled: boolean;
};

async function lockQueue(c: Queryable, q: QueueRef): Promise<QueueState | undefined> {
  const { rows } = await c.query<QueueState>(
    `SELECT q.tenant_id, q.head_message_id,
            COALESCE(h.status = 'pending', false) AS head_pending, COALESCE(h.status = 'pending' AND h.run_id IS NULL, false) AS head_unclaimed,
            EXTRACT(EPOCH FROM now() - q.turn_at)::float8 AS turn_age_s,
            e.id IS NOT NULL AS endpoint_exists, COALESCE(e.disabled, false) AS disabled
     FROM fifo_queues q
     LEFT JOIN deliveries h ON h.message_id = q.head_message_id AND h.endpoint_id = q.endpoint_id
     LEFT JOIN endpoints e ON e.id = q.endpoint_id
     WHERE q.endpoint_id = $1 AND q.ordering_key = $2
     FOR UPDATE OF q`,
    [q.endpointId, q.orderingKey],
  );
  return rows[0];
}

/** The queue's first waiting delivery and, when an earlier message that may join the queue is still unrouted, that message. */
async function candidate(c: Queryable, q: QueueRef) {
  const { rows } = await c.query<{ message_id: string; first_run: boolean; tenant_id: string; event_type: string; blocked_by: string | null }>(
    `WITH nxt AS (
       SELECT message_id, queue_seq, claimed_at FROM deliveries
       WHERE endpoint_id = $1 AND queue_key = $2 AND status = 'pending'
       ORDER BY queue_seq, message_id LIMIT 1
     )
     SELECT nxt.message_id, nxt.claimed_at IS NULL AS first_run, m.tenant_id, m.event_type,
       (SELECT u.message_id FROM unrouted_messages u JOIN messages um ON um.id = u.message_id CROSS JOIN endpoints e
        WHERE e.id = $1 AND u.tenant_id = e.tenant_id AND u.seq < nxt.queue_seq AND COALESCE(u.ordering_key, '') = $2
          AND ${FIFO_FOR('u.seq', 'e')}
          AND (cardinality(e.event_types) = 0 OR um.event_type = ANY (e.event_types))
          AND (cardinality(e.channels) = 0 OR e.channels && um.channels)
          AND (um.workflow_started OR u.since > now() - make_interval(secs => $3))
        ORDER BY u.seq LIMIT 1) AS blocked_by
     FROM nxt JOIN messages m ON m.id = nxt.message_id`,
    [q.endpointId, q.orderingKey, UNSTARTED_GRACE_SECONDS],
  );
  return rows[0];
}

/**
 * Waits until every POST /events of the tenant that holds the order lock has committed: a message whose seq
 * was drawn before the candidate's is then visible to the next statement, or was never written.
 */
async function fence(c: Queryable, tenantId: string): Promise<void> {
  // The subquery runs first (a volatile function keeps the planner from flattening it): lock, then let go.
  await c.query('SELECT pg_advisory_unlock($1, hashtext($2)) FROM (SELECT pg_advisory_lock($1, hashtext($2))) AS waited', [ORDER_LOCK, tenantId]);
}

async function failWaiting(c: Queryable, q: QueueRef, reason: string): Promise<void> {
  await c.query(
    `UPDATE deliveries SET status = 'failed', failure_reason = $3, next_attempt_at = NULL, slot_at = NULL, updated_at = now()
     WHERE endpoint_id = $1 AND queue_key = $2 AND status = 'pending'`,
    [q.endpointId, q.orderingKey, reason],
  );
}

async function setQueue(c: Queryable, q: QueueRef, head: string | null, blockedBy: string | null): Promise<void> {
  await c.query(
    `UPDATE fifo_queues SET last_message_id = COALESCE(head_message_id, last_message_id), head_message_id = $3,
       turn_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END, blocked_by = $4, updated_at = now()
     WHERE endpoint_id = $1 AND ordering_key = $2`,
    [q.endpointId, q.orderingKey, head, blockedBy],
  );
}

/**
 * Moves a queue on if it can: when no delivery holds its turn (the head ended, or never was), the first
 * waiting one gets it, unless the endpoint is disabled (the queue is held), deleted (the waiting ones fail),
 * or an earlier message of the tenant that may join the queue is still being routed (blocked by it).
 * Returns the delivery that now holds the turn and still needs its run; the caller starts it. A head that
 * holds the turn is returned only when its run has not claimed it for UNCLAIMED_TURN_SECONDS, or at once
 * with `ensure` (a repeat of the step that gave it the turn, whose start may have been lost).
 */
export async function passTurn(db: Db, q: QueueRef, o: { ensure?: boolean } = {}): Promise<Turn | undefined> {
  for (;;) {
    const step = await passTurnOnce(db, q, o);
    if (!('blockedBy' in step)) return step.turn;
    // Published first, looked at after: the blocking message's routing deletes its row, then wakes the queues
    // blocked by it (queuesBlockedBy). Either that wake-up reads this queue's blocked_by, or this read finds the
    // row gone and looks at the queue again; no wait on each other's locks.
    const still = await db.query('SELECT 1 FROM unrouted_messages WHERE message_id = $1', [step.blockedBy]);
    if (still.rowCount !== 0) return undefined;
  }
}

async function passTurnOnce(db: Db, q: QueueRef, o: { ensure?: boolean }): Promise<{ turn?: Turn } | { blockedBy: string }> {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    let state = await lockQueue(c, q);
    if (!state) {
      await c.query(
        `INSERT INTO fifo_queues (endpoint_id, ordering_key, tenant_id) SELECT id, $2, tenant_id FROM endpoints WHERE id = $1
         ON CONFLICT (endpoint_id, ordering_key) DO NOTHING`,
        [q.endpointId, q.orderingKey],
      );
      state = await lockQueue(c, q);
    }
    let turn: Turn | undefined;
    let blockedBy: string | undefined;
    if (!state) {
      await failWaiting(c, q, `endpoint ${q.endpointId} was deleted`);
    } else if (state.head_message_id && state.head_pending) {
      if (state.head_unclaimed && (o.ensure || (state.turn_age_s ?? 0) > UNCLAIMED_TURN_SECONDS)) turn = await headTurn(c, q, state.head_message_id);
    } else if (!state.endpoint_exists) {
      await failWaiting(c, q, `endpoint ${q.endpointId} was deleted`);
      await c.query('DELETE FROM fifo_queues WHERE endpoint_id = $1 AND ordering_key = $2', [q.endpointId, q.orderingKey]);
    } else if (state.disabled) {
      await setQueue(c, q, null, null);
    } else {
      await fence(c, state.tenant_id);
      const given = await giveTurn(c, q);
      if (typeof given === 'string') blockedBy = given;
      else turn = given;
    }
    await c.query('COMMIT');
    return blockedBy ? { blockedBy } : { turn };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

/** The turn to the queue's first waiting delivery; or the message it is blocked by (recorded); or the queue goes, empty. */
async function giveTurn(c: Queryable, q: QueueRef): Promise<Turn | string | undefined> {
  const next = await candidate(c, q);
  if (!next) {
    await c.query('DELETE FROM fifo_queues WHERE endpoint_id = $1 AND ordering_key = $2', [q.endpointId, q.orderingKey]);
    return undefined;
  }
  if (next.blocked_by) {
    await setQueue(c, q, null, next.blocked_by);
    return next.blocked_by;
  }
  await setQueue(c, q, next.message_id, null);
  return { messageId: next.message_id, endpointId: q.endpointId, tenantId: next.tenant_id, eventType: next.event_type, firstRun: next.first_run };
}

async function headTurn(c: Queryable, q: QueueRef, messageId: string): Promise<Turn | undefined> {
  const { rows } = await c.query<{ tenant_id: string; event_type: string; first_run: boolean }>(
    `SELECT m.tenant_id, m.event_type, d.claimed_at IS NULL AS first_run
     FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE d.message_id = $1 AND d.endpoint_id = $2`,
    [messageId, q.endpointId],
  );
  const row = rows[0];
  return row && { messageId, endpointId: q.endpointId, tenantId: row.tenant_id, eventType: row.event_type, firstRun: row.first_run };
}

/**
 * A head whose first attempt found its endpoint disabled goes back to the front of its queue, unattempted,
 * instead of failing: disabling an endpoint holds its queue. Returns false when the row had moved on.
 */
export async function putBack(db: Db, d: { messageId: string; endpointId: string }, runId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH back AS (
       UPDATE deliveries SET run_id = NULL, updated_at = now()
       WHERE message_id = $1 AND endpoint_id = $2 AND run_id = $3 AND status = 'pending' AND attempts = 0 AND queue_key IS NOT NULL
       RETURNING queue_key
     )
     UPDATE fifo_queues q SET head_message_id = NULL, turn_at = NULL, updated_at = now()
     FROM back WHERE q.endpoint_id = $2 AND q.ordering_key = back.queue_key AND q.head_message_id = $1`,
    [d.messageId, d.endpointId, runId],
  );
  return (rowCount ?? 0) > 0;
}

/** The queues blocked by a message that has just been routed: each looks at its candidate again. */
export async function queuesBlockedBy(db: Db, messageId: string): Promise<QueueRef[]> {
  const { rows } = await db.query<{ endpoint_id: string; ordering_key: string }>(
    'SELECT endpoint_id, ordering_key FROM fifo_queues WHERE blocked_by = $1',
    [messageId],
  );
  return rows.map(queueRef);
}

/** The FIFO queues a message has a pending delivery in. */
export async function queuesOfMessage(db: Db, messageId: string): Promise<QueueRef[]> {
  const { rows } = await db.query<{ endpoint_id: string; ordering_key: string }>(
    `SELECT DISTINCT endpoint_id, queue_key AS ordering_key FROM deliveries
     WHERE message_id = $1 AND queue_key IS NOT NULL AND status = 'pending'`,
    [messageId],
  );
  return rows.map(queueRef);
}

/** The queue of one delivery, when it is a FIFO one. */
export async function queueOf(db: Db, d: { messageId: string; endpointId: string }): Promise<QueueRef | undefined> {
  const { rows } = await db.query<{ endpoint_id: string; ordering_key: string }>(
    'SELECT endpoint_id, queue_key AS ordering_key FROM deliveries WHERE message_id = $1 AND endpoint_id = $2 AND queue_key IS NOT NULL',
    [d.messageId, d.endpointId],
  );
  return rows[0] && queueRef(rows[0]);
}

/** An endpoint's queues that no delivery holds, held ones included: what enabling it resumes. */
export async function idleQueuesOf(db: Db, endpointId: string, limit: number): Promise<QueueRef[]> {
  const { rows } = await db.query<{ endpoint_id: string; ordering_key: string }>(
    'SELECT endpoint_id, ordering_key FROM fifo_queues WHERE endpoint_id = $1 AND head_message_id IS NULL ORDER BY ordering_key LIMIT $2',
    [endpointId, limit],
  );
  return rows.map(queueRef);
}

/**
 * Queues that should move and do not, for the periodic sweep: idle ones of an enabled (or deleted)
 * endpoint that nothing still blocks; heads whose run never claimed them; heads that ended without
 * handing the turn on. On a healthy system this finds nothing.
 */
export async function stalledQueues(db: Db, limit: number): Promise<QueueRef[]> {
  const { rows } = await db.query<{ endpoint_id: string; ordering_key: string }>(
    `SELECT q.endpoint_id, q.ordering_key FROM fifo_queues q
     LEFT JOIN endpoints e ON e.id = q.endpoint_id
     LEFT JOIN deliveries h ON h.message_id = q.head_message_id AND h.endpoint_id = q.endpoint_id
     WHERE (q.head_message_id IS NULL AND (e.id IS NULL OR NOT e.disabled) AND NOT EXISTS (
              SELECT 1 FROM unrouted_messages u JOIN messages m ON m.id = u.message_id
              WHERE u.message_id = q.blocked_by AND (m.workflow_started OR u.since > now() - make_interval(secs => $2))))
        OR (q.head_message_id IS NOT NULL AND (h.status IS DISTINCT FROM 'pending'
              OR (h.run_id IS NULL AND q.turn_at < now() - make_interval(secs => $3))))
     LIMIT $1`,
    [limit, UNSTARTED_GRACE_SECONDS, UNCLAIMED_TURN_SECONDS],
  );
  return rows.map(queueRef);
}

/**
 * Puts finished FIFO deliveries back into their queues behind those waiting, in their messages' order
 * (redeliver, recover): pending, no attempts, a fresh place from the message sequence. Returns the queues.
 * `where` selects rows of `deliveries d` joined with `messages m`; $1… are its params.
 */
async function requeue(db: Db, where: string, params: unknown[]): Promise<QueueRef[]> {
  // The places are drawn in the order of the inner ORDER BY: the outer select numbers its rows as the
  // ordered subquery hands them over, so messages keep their order among themselves.
  const { rows } = await db.query<{ endpoint_id: string; ordering_key: string }>(
    `WITH picked AS (
       SELECT message_id, endpoint_id, tenant_id, nextval(pg_get_serial_sequence('messages', 'seq')) AS place
       FROM (SELECT d.message_id, d.endpoint_id, m.tenant_id FROM deliveries d JOIN messages m ON m.id = d.message_id
             WHERE d.queue_key IS NOT NULL AND d.status <> 'pending' AND ${where}
             ORDER BY m.seq, d.message_id) ordered
     ),
     moved AS (
       UPDATE deliveries d SET status = 'pending', attempts = 0, last_status_code = NULL, last_attempt_at = NULL,
         next_attempt_at = NULL, failure_reason = NULL, slot_at = NULL, run_id = NULL, queue_seq = picked.place, updated_at = now()
       FROM picked WHERE d.message_id = picked.message_id AND d.endpoint_id = picked.endpoint_id AND d.status <> 'pending'
       RETURNING d.endpoint_id, d.queue_key, picked.tenant_id
     ),
     queued AS (
       INSERT INTO fifo_queues (endpoint_id, ordering_key, tenant_id) SELECT DISTINCT endpoint_id, queue_key, tenant_id FROM moved
       ON CONFLICT (endpoint_id, ordering_key) DO NOTHING
     )
     SELECT DISTINCT endpoint_id, queue_key AS ordering_key FROM moved`,
    params,
  );
  return rows.map(queueRef);
}

/** One finished FIFO delivery queued again; none when it is unordered or still pending. */
export function requeueDelivery(db: Db, d: { messageId: string; endpointId: string }): Promise<QueueRef[]> {
  return requeue(db, 'd.message_id = $1 AND d.endpoint_id = $2', [d.messageId, d.endpointId]);
}

/** Every finished FIFO delivery of a message queued again (a redelivery to all its endpoints). */
export function requeueMessage(db: Db, messageId: string): Promise<QueueRef[]> {
  return requeue(db, 'd.message_id = $1', [messageId]);
}

/** An endpoint's FIFO deliveries that failed in [since, until) queued again (a recovery). */
export function requeueFailed(db: Db, w: { endpointId: string; since: string; until: string | null }): Promise<QueueRef[]> {
  return requeue(
    db,
    `d.endpoint_id = $1 AND d.status = 'failed' AND d.updated_at >= $2::timestamptz AND ($3::timestamptz IS NULL OR d.updated_at < $3::timestamptz)`,
    [w.endpointId, w.since, w.until],
  );
}

/** Whether a delivery that has no row yet would be FIFO: the endpoint's ordering for that message. */
export async function isFifoFor(db: Db, messageId: string, endpointId: string): Promise<boolean> {
  const { rows } = await db.query<{ fifo: boolean }>(
    `SELECT ${FIFO_FOR('m.seq', 'e')} AS fifo FROM messages m, endpoints e WHERE m.id = $1 AND e.id = $2`,
    [messageId, endpointId],
  );
  return rows[0]?.fifo === true;
}

/** A new FIFO delivery of a message to an endpoint it never went to, at the back of its queue. */
export async function enqueueNew(db: Db, messageId: string, endpointId: string): Promise<QueueRef> {
  const { rows } = await db.query<{ ordering_key: string }>(
    `WITH added AS (
       INSERT INTO deliveries (message_id, endpoint_id, queue_key, queue_seq)
       SELECT id, $2, COALESCE(ordering_key, ''), nextval(pg_get_serial_sequence('messages', 'seq')) FROM messages WHERE id = $1
       ON CONFLICT (message_id, endpoint_id) DO NOTHING
       RETURNING queue_key
     ),
     queued AS (
       INSERT INTO fifo_queues (endpoint_id, ordering_key, tenant_id) SELECT $2, added.queue_key, m.tenant_id FROM added, messages m WHERE m.id = $1
       ON CONFLICT (endpoint_id, ordering_key) DO NOTHING
     )
     SELECT queue_key AS ordering_key FROM added`,
    [messageId, endpointId],
  );
  return { endpointId, orderingKey: rows[0]?.ordering_key ?? '' };
}

export type QueueSummary = {
  orderingKey: string;
  waiting: number;
  head: string | null;
  blockedBy: string | null;
  last: string | null;
  nextMessageId: string | null;
};

/** An endpoint's queues with work, by key, a page at a time, and how many deliveries wait in all of them. */
export async function endpointQueues(db: Db, endpointId: string, o: { afterKey?: string; limit: number }): Promise<{ waiting: number; queues: QueueSummary[] }> {
  const [total, page] = await Promise.all([
    db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM deliveries d
       WHERE d.endpoint_id = $1 AND d.queue_key IS NOT NULL AND d.status = 'pending'
         AND NOT EXISTS (SELECT 1 FROM fifo_queues q WHERE q.endpoint_id = d.endpoint_id AND q.ordering_key = d.queue_key AND q.head_message_id = d.message_id)`,
      [endpointId],
    ),
    db.query<{ ordering_key: string; waiting: number; head_message_id: string | null; blocked_by: string | null; last_message_id: string | null; next_message_id: string | null }>(
      `SELECT q.ordering_key, q.head_message_id, q.blocked_by, q.last_message_id,
         (SELECT count(*)::int FROM deliveries d WHERE d.endpoint_id = q.endpoint_id AND d.queue_key = q.ordering_key
            AND d.status = 'pending' AND d.message_id IS DISTINCT FROM q.head_message_id) AS waiting,
         (SELECT d.message_id FROM deliveries d WHERE d.endpoint_id = q.endpoint_id AND d.queue_key = q.ordering_key
            AND d.status = 'pending' AND d.message_id IS DISTINCT FROM q.head_message_id ORDER BY d.queue_seq, d.message_id LIMIT 1) AS next_message_id
       FROM fifo_queues q WHERE q.endpoint_id = $1 AND ($2::text IS NULL OR q.ordering_key > $2)
       ORDER BY q.ordering_key LIMIT $3`,
      [endpointId, o.afterKey ?? null, o.limit + 1],
    ),
  ]);
  return {
    waiting: total.rows[0]?.n ?? 0,
    queues: page.rows.map((r) => ({
      orderingKey: r.ordering_key,
      waiting: r.waiting,
      head: r.head_message_id,
      blockedBy: r.blocked_by,
      last: r.last_message_id,
      nextMessageId: r.next_message_id,
    })),
  };
}

/**
 * An endpoint was deleted: its waiting deliveries fail (no POST will be made) and its queues go. An endpoint
 * without FIFO queues (every unordered one) costs one look at fifo_queues and no write.
 */
export async function dropQueuesOf(db: Db, endpointId: string): Promise<void> {
  const { rowCount } = await db.query('SELECT 1 FROM fifo_queues WHERE endpoint_id = $1 LIMIT 1', [endpointId]);
  if (rowCount === 0) return;
  await db.query(
    `UPDATE deliveries SET status = 'failed', failure_reason = $2, next_attempt_at = NULL, slot_at = NULL, updated_at = now()
     WHERE endpoint_id = $1 AND queue_key IS NOT NULL AND status = 'pending' AND run_id IS NULL`,
    [endpointId, `endpoint ${endpointId} was deleted`],
  );
  await db.query('DELETE FROM fifo_queues WHERE endpoint_id = $1 AND head_message_id IS NULL', [endpointId]);
}

function queueRef(r: { endpoint_id: string; ordering_key: string }): QueueRef {
  return { endpointId: r.endpoint_id, orderingKey: r.ordering_key };
}
