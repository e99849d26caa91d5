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

export async function listAttempts(
  db: Db,
  q: { messageId?: string; endpointId?: string; status?: 'succeeded' | 'failed'; limit: number; afterSeq?: string },
) {
  const { rows } = await db.query<AttemptRow>(
    `SELECT * FROM attempts
     WHERE ($1::text IS NULL OR message_id = $1) AND ($2::text IS NULL OR endpoint_id = $2)
       AND ($3::text IS NULL OR status = $3) AND ($4::bigint IS NULL OR seq < $4)
     ORDER BY seq DESC LIMIT $5`,
    [q.messageId ?? null, q.endpointId ?? null, q.status ?? null, q.afterSeq ?? null, q.limit + 1],
  );
  return page(rows, q.limit);
}
