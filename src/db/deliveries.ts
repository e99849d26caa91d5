import type { Db } from './pool';

/**
 * A delivery row belongs to the run of its delivery workflow that claimed it last. Runs of one workflow id
 * never overlap, so the newest claim (by workflow time) is the run in charge: only its writes move the
 * row, and a finished row (succeeded or failed) never goes back to pending within a run. A new run
 * (redeliver, recover, an operator's reset) claims the row itself when it starts; nothing resets a row
 * ahead of a run that may never start.
 */
export type RunClaim = { runId: string; claimedAt: number };

export type DeliveryTarget = { messageId: string; endpointId: string };

export type OwnedDelivery = {
  attempts: number;
  slotAt: number | null;
  status: 'pending' | 'succeeded' | 'failed';
  failureReason: string | null;
  /** A FIFO delivery's queue key (its message's orderingKey, '' for none); null for an unordered one. */
  queueKey: string | null;
};

const SLOT_MS = 'floor(EXTRACT(EPOCH FROM slot_at) * 1000)::bigint AS slot_ms';

/**
 * Whether the row `d` may be run now: an unordered delivery always, a FIFO one only while it holds its
 * queue's turn (src/db/queues.ts). A delivery waiting in its queue has no run, and nothing but its queue
 * may start, claim or end it.
 */
export const MAY_RUN = (d: string) => `(${d}.queue_key IS NULL OR EXISTS (
  SELECT 1 FROM fifo_queues q WHERE q.endpoint_id = ${d}.endpoint_id AND q.ordering_key = ${d}.queue_key AND q.head_message_id = ${d}.message_id))`;

/** A run's claim time as Postgres stores it; the same expression everywhere, so equality holds. */
const CLAIMED_AT = (param: string) => `to_timestamp(${param}::double precision / 1000)`;

/**
 * Makes `run` the owner of the row (creating it when a redelivery targets an endpoint the message never
 * went to, or the row was never made): pending, no attempts yet. Returns the row as the run now sees it,
 * or undefined when a newer run already owns it. The same run claiming again (its first task ran again
 * after a worker died, at a later workflow time) keeps the row as it is: an attempt it already recorded,
 * and a delivery it already finished, stay. A FIFO delivery is claimed only while it holds its queue's turn:
 * a run started twice, or after its delivery ended, never jumps the queue.
 */
export async function claimDelivery(db: Db, d: DeliveryTarget, run: RunClaim): Promise<OwnedDelivery | undefined> {
  // The second SELECT reads the row as it was before this statement: the run's own earlier claim.
  const { rows } = await db.query<OwnedRow>(
    `WITH claimed AS (
       INSERT INTO deliveries AS d (message_id, endpoint_id, run_id, claimed_at)
       VALUES ($1, $2, $3, ${CLAIMED_AT('$4')})
       ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
         run_id = EXCLUDED.run_id, claimed_at = EXCLUDED.claimed_at, status = 'pending', attempts = 0,
         last_status_code = NULL, last_attempt_at = NULL, next_attempt_at = NULL, failure_reason = NULL, slot_at = NULL,
         updated_at = now()
       WHERE d.run_id IS DISTINCT FROM EXCLUDED.run_id AND (d.claimed_at IS NULL OR d.claimed_at < EXCLUDED.claimed_at)
         AND (d.queue_key IS NULL OR (d.status = 'pending' AND ${MAY_RUN('d')}))
       RETURNING d.attempts, d.status, d.slot_at, d.failure_reason, d.queue_key
     )
     SELECT attempts, status, ${SLOT_MS}, failure_reason, queue_key FROM claimed
     UNION ALL
     SELECT attempts, status, ${SLOT_MS}, failure_reason, queue_key FROM deliveries
     WHERE message_id = $1 AND endpoint_id = $2 AND run_id = $3 AND NOT EXISTS (SELECT 1 FROM claimed)`,
    [d.messageId, d.endpointId, run.runId, run.claimedAt],
  );
  return rows[0] && owned(rows[0]);
}

/** The row as `run` sees it, or undefined when another run owns it now. */
export async function ownedDelivery(db: Db, d: DeliveryTarget, run: RunClaim): Promise<OwnedDelivery | undefined> {
  const { rows } = await db.query<OwnedRow>(
    `SELECT attempts, status, ${SLOT_MS}, failure_reason, queue_key FROM deliveries WHERE message_id = $1 AND endpoint_id = $2 AND run_id = $3`,
    [d.messageId, d.endpointId, run.runId],
  );
  return rows[0] && owned(rows[0]);
}

type OwnedRow = { attempts: number; slot_ms: string | null; status: OwnedDelivery['status']; failure_reason: string | null; queue_key: string | null };
const owned = (row: OwnedRow): OwnedDelivery => ({
  attempts: row.attempts, status: row.status, slotAt: row.slot_ms === null ? null : Number(row.slot_ms), failureReason: row.failure_reason,
  queueKey: row.queue_key,
});

/**
 * The row as a run of workflow version 1 (which never claims) sees it: undefined once a later run has
 * claimed it. A row that is gone (its message purged) reads as pending, for the attempt's own checks to say why.
 */
export async function legacyDelivery(db: Db, d: DeliveryTarget): Promise<OwnedDelivery | undefined> {
  const { rows } = await db.query<OwnedRow & { run_id: string | null }>(
    `SELECT attempts, status, ${SLOT_MS}, failure_reason, queue_key, run_id FROM deliveries WHERE message_id = $1 AND endpoint_id = $2`,
    [d.messageId, d.endpointId],
  );
  const row = rows[0];
  if (!row) return { attempts: 0, status: 'pending', slotAt: null, failureReason: null, queueKey: null };
  return row.run_id === null ? owned(row) : undefined;
}

/** Holds a reserved rate-limit slot for the run's next attempt (null: the attempt used it). */
export async function holdSlot(db: Db, d: DeliveryTarget, run: RunClaim, slotAt: number | null): Promise<void> {
  await db.query(
    `UPDATE deliveries SET slot_at = to_timestamp($4::double precision / 1000)
     WHERE message_id = $1 AND endpoint_id = $2 AND run_id = $3`,
    [d.messageId, d.endpointId, run.runId, slotAt],
  );
}

export type AttemptRecord = {
  id: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string;
  url: string;
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string> | null;
  /** The delivery's state after this attempt: pending with the next attempt's time, or finished. */
  next: { status: 'pending'; nextAttemptAt: Date | null } | { status: 'succeeded' } | { status: 'failed'; reason: string };
};

/**
 * Records one attempt (always: it happened) and, in the same statement, moves the delivery's row when
 * `run` still owns it and it is still pending. A late attempt of a superseded run, or one that ends after
 * the delivery was already failed, leaves the row as it is.
 */
export async function recordAttempt(db: Db, d: DeliveryTarget, run: RunClaim | null, a: AttemptRecord): Promise<void> {
  const nextAttemptAt = a.next.status === 'pending' ? a.next.nextAttemptAt : null;
  const reason = a.next.status === 'failed' ? a.next.reason : null;
  await db.query(
    `WITH attempt AS (
       INSERT INTO attempts (id, message_id, endpoint_id, attempt, status, status_code, duration_ms, error, response_body,
                             run_id, url, request_headers, response_headers)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING created_at
     )
     UPDATE deliveries d SET status = $14, attempts = d.attempts + 1, last_status_code = $6,
       last_attempt_at = (SELECT created_at FROM attempt), next_attempt_at = $15, failure_reason = $16, updated_at = now()
     WHERE d.message_id = $2 AND d.endpoint_id = $3 AND d.status = 'pending'
       AND d.run_id IS NOT DISTINCT FROM $10`,
    [a.id, d.messageId, d.endpointId, a.attempt, a.status, a.statusCode, a.durationMs, a.error, a.responseBody,
      run?.runId ?? null, a.url, JSON.stringify(a.requestHeaders), a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
      a.next.status, nextAttemptAt, reason],
  );
}

/**
 * Ends the run's delivery as failed with a reason, unless it already ended or a newer run owns it. A run
 * that ends before its first attempt claimed the row (cancelled before its first task ran) claims it
 * here, failed — a FIFO delivery only while it holds its queue's turn, never one waiting in its queue. `run`
 * null is a run of before ownership (workflow version 1): it may write a row no run has claimed.
 */
export async function failDelivery(db: Db, d: DeliveryTarget, run: RunClaim | null, reason: string): Promise<boolean> {
  const { rowCount } = run
    ? await db.query(
      `UPDATE deliveries SET status = 'failed', failure_reason = $5, next_attempt_at = NULL, slot_at = NULL, updated_at = now(),
         run_id = $3, claimed_at = greatest(claimed_at, ${CLAIMED_AT('$4')})
       WHERE message_id = $1 AND endpoint_id = $2 AND status = 'pending'
         AND (run_id = $3 OR ((claimed_at IS NULL OR claimed_at <= ${CLAIMED_AT('$4')}) AND ${MAY_RUN('deliveries')}))`,
      [d.messageId, d.endpointId, run.runId, run.claimedAt, reason],
    )
    : await db.query(
      `UPDATE deliveries SET status = 'failed', failure_reason = $3, next_attempt_at = NULL, slot_at = NULL, updated_at = now()
       WHERE message_id = $1 AND endpoint_id = $2 AND status = 'pending' AND run_id IS NULL`,
      [d.messageId, d.endpointId, reason],
    );
  return (rowCount ?? 0) > 0;
}

/** A pending row as the reconciler sees it: which run claimed it, if any. */
export type PendingDelivery = DeliveryTarget & { runId: string | null };

/** Of these deliveries, the ones still pending (FIFO ones waiting in their queues aside: no run is theirs yet). */
export async function pendingDeliveries(db: Db, targets: DeliveryTarget[]): Promise<PendingDelivery[]> {
  if (targets.length === 0) return [];
  const { rows } = await db.query<PendingDelivery>(
    `SELECT d.message_id AS "messageId", d.endpoint_id AS "endpointId", d.run_id AS "runId"
     FROM unnest($1::text[], $2::text[]) AS t(message_id, endpoint_id)
     JOIN deliveries d ON d.message_id = t.message_id AND d.endpoint_id = t.endpoint_id
     WHERE d.status = 'pending' AND ${MAY_RUN('d')}`,
    [targets.map((t) => t.messageId), targets.map((t) => t.endpointId)],
  );
  return rows;
}

/**
 * The pending unordered deliveries of these messages that no delivery run has claimed yet. FIFO ones are not
 * their message's to start: their queues start them.
 */
export async function unclaimedDeliveries(db: Db, messageIds: string[]): Promise<PendingDelivery[]> {
  if (messageIds.length === 0) return [];
  const { rows } = await db.query<PendingDelivery>(
    `SELECT message_id AS "messageId", endpoint_id AS "endpointId", run_id AS "runId" FROM deliveries
     WHERE message_id = ANY ($1::text[]) AND status = 'pending' AND run_id IS NULL AND queue_key IS NULL`,
    [messageIds],
  );
  return rows;
}

/** Where a walk through the quiet pending rows has got to. */
export type QuietCursor = { due: string; messageId: string; endpointId: string };

/**
 * Pending deliveries that nothing has written for `quietMs` past when something should have: their
 * next attempt's time, or, before any attempt, their last write. Keyset-paged in the order of the
 * partial index deliveries_pending_due (migration 0007). A FIFO delivery waiting in its queue is quiet by
 * design and is left to its queue; one that holds the turn is checked like any other.
 */
export async function quietDeliveries(
  db: Db,
  q: { quietMs: number; after?: QuietCursor; limit: number },
): Promise<(PendingDelivery & { cursor: QuietCursor })[]> {
  const { rows } = await db.query<PendingDelivery & { due: string }>(
    `SELECT message_id AS "messageId", endpoint_id AS "endpointId", run_id AS "runId",
            to_char(coalesce(next_attempt_at, updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS due
     FROM deliveries
     WHERE status = 'pending' AND coalesce(next_attempt_at, updated_at) < now() - make_interval(secs => $1::double precision / 1000)
       AND ${MAY_RUN('deliveries')}
       AND ($2::timestamptz IS NULL OR (coalesce(next_attempt_at, updated_at), message_id, endpoint_id) > ($2::timestamptz, $3::text, $4::text))
     ORDER BY coalesce(next_attempt_at, updated_at), message_id, endpoint_id LIMIT $5`,
    [q.quietMs, q.after?.due ?? null, q.after?.messageId ?? null, q.after?.endpointId ?? null, q.limit],
  );
  return rows.map(({ due, ...row }) => ({ ...row, cursor: { due, messageId: row.messageId, endpointId: row.endpointId } }));
}

/**
 * Fails deliveries whose runs ended without a word, each with its reason, in one statement. A row that
 * moved since it was read (a new run claimed it, or it ended) is left as it is. Returns how many it failed
 * and the FIFO queues whose head it failed, whose turn the caller passes on.
 */
export async function failOrphans(
  db: Db, orphans: (PendingDelivery & { reason: string })[],
): Promise<{ failed: number; queues: { endpointId: string; orderingKey: string }[] }> {
  if (orphans.length === 0) return { failed: 0, queues: [] };
  const { rows } = await db.query<{ endpoint_id: string; queue_key: string | null }>(
    `UPDATE deliveries d SET status = 'failed', failure_reason = o.reason, next_attempt_at = NULL, slot_at = NULL, updated_at = now()
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS o(message_id, endpoint_id, run_id, reason)
     WHERE d.message_id = o.message_id AND d.endpoint_id = o.endpoint_id AND d.status = 'pending'
       AND d.run_id IS NOT DISTINCT FROM o.run_id AND ${MAY_RUN('d')}
     RETURNING d.endpoint_id, d.queue_key`,
    [orphans.map((o) => o.messageId), orphans.map((o) => o.endpointId), orphans.map((o) => o.runId), orphans.map((o) => o.reason)],
  );
  return {
    failed: rows.length,
    queues: rows.flatMap((r) => (r.queue_key === null ? [] : [{ endpointId: r.endpoint_id, orderingKey: r.queue_key }])),
  };
}
