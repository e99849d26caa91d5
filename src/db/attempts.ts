import type { Db } from './pool';
import { page } from './cursor';

export type AttemptRow = {
  seq: string;
  id: string;
  message_id: string;
  endpoint_id: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string;
  created_at: Date;
};

export type NewAttempt = Omit<AttemptRow, 'seq' | 'created_at'> & { nextAttemptAt: Date | null };

/**
 * Records one attempt and moves the delivery's state with it, in one round trip: a succeeded attempt
 * ends the delivery, a failed one leaves it pending until the workflow says it is over.
 */
export async function recordAttempt(db: Db, a: NewAttempt): Promise<void> {
  await db.query(
    `WITH attempt AS (
       INSERT INTO attempts (id, message_id, endpoint_id, attempt, status, status_code, duration_ms, error, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING created_at
     )
     INSERT INTO deliveries AS d (message_id, endpoint_id, status, attempts, last_status_code, last_attempt_at, next_attempt_at)
     SELECT $2, $3, CASE WHEN $5 = 'succeeded' THEN 'succeeded' ELSE 'pending' END, 1, $6, created_at, $10 FROM attempt
     ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
       status = EXCLUDED.status, attempts = d.attempts + 1, last_status_code = EXCLUDED.last_status_code,
       last_attempt_at = EXCLUDED.last_attempt_at, next_attempt_at = EXCLUDED.next_attempt_at, updated_at = now()`,
    [a.id, a.message_id, a.endpoint_id, a.attempt, a.status, a.status_code, a.duration_ms, a.error, a.response_body, a.nextAttemptAt],
  );
}

export async function listAttempts(
  db: Db,
  q: { messageId?: string; endpointId?: string; status?: 'succeeded' | 'failed'; since?: string; until?: string; limit: number; afterSeq?: string },
) {
  const { rows } = await db.query<AttemptRow>(
    `SELECT * FROM attempts
     WHERE ($1::text IS NULL OR message_id = $1) AND ($2::text IS NULL OR endpoint_id = $2)
       AND ($3::text IS NULL OR status = $3) AND ($4::bigint IS NULL OR seq < $4)
       AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
     ORDER BY seq DESC LIMIT $5`,
    [q.messageId ?? null, q.endpointId ?? null, q.status ?? null, q.afterSeq ?? null, q.limit + 1, q.since ?? null, q.until ?? null],
  );
  return page(rows, q.limit);
}

/** An attempt with what was sent and what came back (migration 0005; null on attempts recorded before it). */
export type AttemptDetailRow = AttemptRow & {
  url: string | null;
  request_headers: Record<string, string> | null;
  response_headers: Record<string, string> | null;
};

export async function getAttempt(db: Db, id: string): Promise<AttemptDetailRow | undefined> {
  const { rows } = await db.query<AttemptDetailRow>('SELECT * FROM attempts WHERE id = $1', [id]);
  return rows[0];
}

export type AttemptBucket = { start: Date; succeeded: number; failed: number };

/**
 * One endpoint's attempts since `since`, counted per bucket of `bucketSeconds` aligned to the Unix epoch
 * (so hourly buckets start on the hour, 6-hour ones at 00, 06, 12 and 18 UTC). Buckets without an attempt
 * are absent; the caller fills them in.
 */
export async function attemptCounts(db: Db, q: { endpointId: string; since: Date; bucketSeconds: number }): Promise<AttemptBucket[]> {
  const { rows } = await db.query<{ start: string; succeeded: number; failed: number }>(
    `SELECT (floor(extract(epoch FROM created_at) / $3) * $3)::bigint AS start,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE status = 'failed')::int AS failed
     FROM attempts WHERE endpoint_id = $1 AND created_at >= $2
     GROUP BY 1 ORDER BY 1`,
    [q.endpointId, q.since, q.bucketSeconds],
  );
  return rows.map((r) => ({ start: new Date(Number(r.start) * 1000), succeeded: r.succeeded, failed: r.failed }));
}

/** The endpoint's latest attempt, for the reason shown beside a failing state. */
export async function latestAttempt(db: Db, endpointId: string): Promise<AttemptRow | undefined> {
  const { rows } = await db.query<AttemptRow>('SELECT * FROM attempts WHERE endpoint_id = $1 ORDER BY seq DESC LIMIT 1', [endpointId]);
  return rows[0];
}
