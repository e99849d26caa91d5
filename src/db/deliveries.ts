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

/**
 * Makes `run` the owner of the row (creating it when a redelivery targets an endpoint the message never
 * went to): pending, no attempts yet. Returns false when a newer run already owns it, or, for a FIFO
 * delivery, when it does not hold its queue's turn (src/db/queues.ts): a run started twice, or after its
 * delivery ended, never jumps the queue.
 */
export async function claimDelivery(db: Db, d: DeliveryTarget, run: RunClaim): Promise<boolean> {
  // The second EXISTS reads the row as it was before this statement: the same run claiming again (its
  // first attempt ran twice after a worker crash) keeps the row and its attempts as they are.
  const { rows } = await db.query<{ owner: boolean }>(
    `WITH claimed AS (
       INSERT INTO deliveries AS d (message_id, endpoint_id, run_id, claimed_at)
       VALUES ($1, $2, $3, to_timestamp($4::double precision / 1000))
       ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
         run_id = EXCLUDED.run_id, claimed_at = EXCLUDED.claimed_at, status = 'pending', attempts = 0,
         last_status_code = NULL, last_attempt_at = NULL, next_attempt_at = NULL, failure_reason = NULL, slot_at = NULL,
         updated_at = now()
       WHERE (d.claimed_at IS NULL OR d.claimed_at < EXCLUDED.claimed_at)
         AND (d.queue_key IS NULL OR (d.status = 'pending' AND EXISTS (
           SELECT 1 FROM fifo_queues q WHERE q.endpoint_id = d.endpoint_id AND q.ordering_key = d.queue_key AND q.head_message_id = d.message_id)))
       RETURNING 1
     )
     SELECT EXISTS (SELECT 1 FROM claimed)
         OR EXISTS (SELECT 1 FROM deliveries WHERE message_id = $1 AND endpoint_id = $2 AND run_id = $3) AS owner`,
    [d.messageId, d.endpointId, run.runId, run.claimedAt],
  );
  return rows[0]?.owner === true;
}

/** The row as `run` sees it, or undefined when another run owns it now. */
export async function ownedDelivery(db: Db, d: DeliveryTarget, run: RunClaim): Promise<OwnedDelivery | undefined> {
  const { rows } = await db.query<{ attempts: number; slot_ms: string | null; status: OwnedDelivery['status']; failure_reason: string | null; queue_key: string | null }>(
    `SELECT attempts, status, floor(EXTRACT(EPOCH FROM slot_at) * 1000)::bigint AS slot_ms, failure_reason, queue_key
     FROM deliveries WHERE message_id = $1 AND endpoint_id = $2 AND run_id = $3`,
    [d.messageId, d.endpointId, run.runId],
  );
  const row = rows[0];
  return row && {
    attempts: row.attempts, status: row.status, slotAt: row.slot_ms === null ? null : Number(row.slot_ms), failureReason: row.failure_reason, queueKey: row.queue_key,
  };
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
 * Ends the run's delivery as failed with a reason, unless it already ended or another run owns it.
 * `run` null is a run of before ownership (workflow version 1): it may write a row no run has claimed.
 */
export async function failDelivery(db: Db, d: DeliveryTarget, run: RunClaim | null, reason: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE deliveries SET status = 'failed', failure_reason = $4, next_attempt_at = NULL, slot_at = NULL, updated_at = now()
     WHERE message_id = $1 AND endpoint_id = $2 AND status = 'pending' AND run_id IS NOT DISTINCT FROM $3`,
    [d.messageId, d.endpointId, run?.runId ?? null, reason],
  );
  return (rowCount ?? 0) > 0;
}

/** A run that ended without a word (terminated, timed out, cancelled while no worker ran): its row fails. */
export async function failRun(db: Db, runId: string, reason: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE deliveries SET status = 'failed', failure_reason = $2, next_attempt_at = NULL, slot_at = NULL, updated_at = now()
     WHERE run_id = $1 AND status = 'pending'`,
    [runId, reason],
  );
  return rowCount ?? 0;
}

/**
 * A message (or fan-out slice) workflow that ended without starting its deliveries: the rows it created
 * and no delivery run has claimed fail. A run that starts later claims its row again. FIFO rows are not
 * its to start: they wait in their queues, which start them.
 */
export async function failUnclaimed(db: Db, messageId: string, reason: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE deliveries SET status = 'failed', failure_reason = $2, updated_at = now()
     WHERE message_id = $1 AND run_id IS NULL AND status = 'pending' AND queue_key IS NULL`,
    [messageId, reason],
  );
  return rowCount ?? 0;
}
