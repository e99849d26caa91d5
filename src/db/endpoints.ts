import type { Db } from './pool';
import { page } from './cursor';

export type EndpointRow = {
  seq: string;
  id: string;
  tenant_id: string;
  url: string;
  description: string;
  event_types: string[];
  channels: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  headers: Record<string, string>;
  disabled: boolean;
  disabled_reason: string | null;
  rate_limit_per_second: number | null;
  retry_schedule_ms: number[] | null;
  metadata: Record<string, unknown>;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
};

export type NewEndpoint = {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  eventTypes: string[];
  channels: string[];
  secret: string;
  headers: Record<string, string>;
  disabled: boolean;
  rateLimitPerSecond: number | null;
  retryScheduleMs: number[] | null;
  metadata: Record<string, unknown>;
};

export type EndpointChanges = Partial<Omit<NewEndpoint, 'id' | 'tenantId' | 'secret'>>;

const COLUMNS: Record<keyof EndpointChanges, string> = {
  url: 'url',
  description: 'description',
  eventTypes: 'event_types',
  channels: 'channels',
  headers: 'headers',
  disabled: 'disabled',
  rateLimitPerSecond: 'rate_limit_per_second',
  retryScheduleMs: 'retry_schedule_ms',
  metadata: 'metadata',
};

export async function insertEndpoint(db: Db, e: NewEndpoint): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `INSERT INTO endpoints (id, tenant_id, url, description, event_types, channels, secret, headers, disabled,
       rate_limit_per_second, retry_schedule_ms, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *`,
    [e.id, e.tenantId, e.url, e.description, e.eventTypes, e.channels, e.secret, JSON.stringify(e.headers), e.disabled,
      e.rateLimitPerSecond, e.retryScheduleMs, JSON.stringify(e.metadata)],
  );
  return rows[0]!;
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  const { rows } = await db.query<EndpointRow>('SELECT * FROM endpoints WHERE id = $1', [id]);
  return rows[0];
}

export async function listEndpoints(db: Db, q: { tenantId?: string; limit: number; afterSeq?: string }) {
  const { rows } = await db.query<EndpointRow>(
    `SELECT * FROM endpoints
     WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::bigint IS NULL OR seq < $2)
     ORDER BY seq DESC LIMIT $3`,
    [q.tenantId ?? null, q.afterSeq ?? null, q.limit + 1],
  );
  return page(rows, q.limit);
}

/** Applies the given fields; re-enabling an endpoint clears the reason it was disabled. */
export async function updateEndpoint(db: Db, id: string, changes: EndpointChanges): Promise<EndpointRow | undefined> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, column] of Object.entries(COLUMNS) as [keyof EndpointChanges, string][]) {
    if (changes[key] === undefined) continue;
    const value = changes[key];
    values.push(key === 'headers' || key === 'metadata' ? JSON.stringify(value) : value);
    sets.push(`${column} = $${values.length}`);
  }
  if (changes.disabled === false) sets.push('disabled_reason = NULL', 'failing_since = NULL');
  sets.push('updated_at = now()');
  const { rows } = await db.query<EndpointRow>(`UPDATE endpoints SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values);
  return rows[0];
}

export async function disableEndpoint(db: Db, id: string, reason: string): Promise<void> {
  await db.query(
    'UPDATE endpoints SET disabled = true, disabled_reason = $2, updated_at = now() WHERE id = $1 AND NOT disabled',
    [id, reason],
  );
}

/**
 * Tracks the endpoint's current run of failures and disables it once every attempt has failed for
 * `disableAfterMs`. Returns the reason when this attempt disabled it.
 */
export async function noteAttemptOutcome(db: Db, id: string, succeeded: boolean, disableAfterMs: number): Promise<string | undefined> {
  if (succeeded) {
    await db.query('UPDATE endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL', [id]);
    return undefined;
  }
  const { rows } = await db.query<{ disabled_reason: string | null }>(
    `UPDATE endpoints SET
       failing_since = COALESCE(failing_since, now()),
       disabled = disabled OR COALESCE(failing_since, now()) <= now() - make_interval(secs => $2::double precision / 1000),
       disabled_reason = CASE
         WHEN NOT disabled AND COALESCE(failing_since, now()) <= now() - make_interval(secs => $2::double precision / 1000)
         THEN 'every delivery failed since ' || to_char(COALESCE(failing_since, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ' (ENDPOINT_DISABLE_AFTER)'
         ELSE disabled_reason END,
       updated_at = now()
     WHERE id = $1 RETURNING disabled, disabled_reason`,
    [id, disableAfterMs],
  );
  const row = rows[0] as { disabled?: boolean; disabled_reason: string | null } | undefined;
  return row?.disabled && row.disabled_reason?.endsWith('(ENDPOINT_DISABLE_AFTER)') ? row.disabled_reason : undefined;
}

export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM endpoints WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** The new secret signs from now on; the old one keeps signing beside it until `graceMs` has passed. */
export async function rotateSecret(db: Db, id: string, secret: string, graceMs: number): Promise<EndpointRow | undefined> {
  const { rows } = await db.query<EndpointRow>(
    `UPDATE endpoints SET previous_secret = secret, secret = $2,
       previous_secret_expires_at = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, secret, graceMs],
  );
  return rows[0];
}

/**
 * One page of the enabled endpoints a message goes to: the tenant's, subscribed to the type (an empty
 * list means every type), and sharing a channel when the endpoint names channels.
 */
export async function matchingEndpointIds(
  db: Db,
  q: { tenantId: string; eventType: string; channels: string[]; afterSeq?: string; limit: number },
): Promise<{ ids: string[]; lastSeq: string | undefined }> {
  const { rows } = await db.query<{ id: string; seq: string }>(
    `SELECT id, seq FROM endpoints
     WHERE tenant_id = $1 AND NOT disabled
       AND (cardinality(event_types) = 0 OR $2 = ANY (event_types))
       AND (cardinality(channels) = 0 OR channels && $3::text[])
       AND ($4::bigint IS NULL OR seq < $4)
     ORDER BY seq DESC LIMIT $5`,
    [q.tenantId, q.eventType, q.channels, q.afterSeq ?? null, q.limit],
  );
  return { ids: rows.map((r) => r.id), lastSeq: rows.length === q.limit ? rows[rows.length - 1]!.seq : undefined };
}
