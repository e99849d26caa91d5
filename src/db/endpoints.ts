import type { Db } from './pool';
import { page } from './cursor';
import { createSecretBox, SecretBoxError, type SecretBox } from '../secrets/secret-box';

/** An endpoint as this module hands it out: `secret` and `previous_secret` are plaintext. */
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
  /** `hookflow listen`'s endpoint: attempts travel down its connection (src/relay/), not to `url`. */
  relay: boolean;
  /** The filter's JSON text as written, or null (src/filters/). */
  filter: string | null;
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
  /** JSON text, kept as written so its numbers stay exact; null = no filter. */
  filterJson: string | null;
  relay?: boolean;
};

export type EndpointChanges = Partial<Omit<NewEndpoint, 'id' | 'tenantId' | 'secret' | 'relay'>>;

/**
 * Every read and write of `secret` and `previous_secret` goes through this module, which seals them with
 * the pool's SecretBox (HOOKFLOW_ENCRYPTION_KEY) on the way in and opens them on the way out. The box is
 * attached to the pool once at start (`useSecretBox`), so the API and the activities keep passing `db`.
 * A pool without a box writes plaintext and reads plaintext only.
 */
const boxes = new WeakMap<Db, SecretBox>();
const PLAINTEXT = createSecretBox();

export function useSecretBox(db: Db, box: SecretBox): void {
  boxes.set(db, box);
}

const boxOf = (db: Db): SecretBox => boxes.get(db) ?? PLAINTEXT;

function opened(box: SecretBox, row: EndpointRow): EndpointRow {
  return {
    ...row,
    secret: box.open(row.secret, row.id),
    previous_secret: row.previous_secret === null ? null : box.open(row.previous_secret, row.id),
  };
}

/**
 * A row whose secrets are not sealed under the current key (written before the key was set, or
 * under a key since rotated) is sealed again. Compare-and-set on the stored values, so a rotation
 * that won the race is never overwritten; then there is nothing to do anyway. Returns the row opened.
 */
async function resealIfStale(db: Db, box: SecretBox, row: EndpointRow): Promise<EndpointRow> {
  const plain = opened(box, row);
  if (box.isCurrent(row.secret) && (row.previous_secret === null || box.isCurrent(row.previous_secret))) return plain;
  await db.query(
    `UPDATE endpoints SET secret = $2, previous_secret = $3
     WHERE id = $1 AND secret = $4 AND previous_secret IS NOT DISTINCT FROM $5`,
    [row.id, box.seal(plain.secret, row.id), plain.previous_secret === null ? null : box.seal(plain.previous_secret, row.id), row.secret, row.previous_secret],
  );
  return plain;
}

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
  filterJson: 'filter',
};

export async function insertEndpoint(db: Db, e: NewEndpoint): Promise<EndpointRow> {
  const { rows } = await db.query<EndpointRow>(
    `INSERT INTO endpoints (id, tenant_id, url, description, event_types, channels, secret, headers, disabled,
       rate_limit_per_second, retry_schedule_ms, metadata, filter, relay)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *`,
    [e.id, e.tenantId, e.url, e.description, e.eventTypes, e.channels, boxOf(db).seal(e.secret, e.id), JSON.stringify(e.headers), e.disabled,
      e.rateLimitPerSecond, e.retryScheduleMs, JSON.stringify(e.metadata), e.filterJson, e.relay ?? false],
  );
  return opened(boxOf(db), rows[0]!);
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  const { rows } = await db.query<EndpointRow>('SELECT * FROM endpoints WHERE id = $1', [id]);
  return rows[0] && opened(boxOf(db), rows[0]);
}

export async function listEndpoints(db: Db, q: { tenantId?: string; limit: number; afterSeq?: string }) {
  const { rows } = await db.query<EndpointRow>(
    `SELECT * FROM endpoints
     WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::bigint IS NULL OR seq < $2)
     ORDER BY seq DESC LIMIT $3`,
    [q.tenantId ?? null, q.afterSeq ?? null, q.limit + 1],
  );
  const box = boxOf(db);
  return page(rows.map((row) => opened(box, row)), q.limit);
}

/**
 * Applies the given fields; re-enabling an endpoint clears the reason it was disabled. A write, so
 * secrets not yet sealed under the current key are sealed now.
 */
export async function updateEndpoint(db: Db, id: string, changes: EndpointChanges): Promise<EndpointRow | undefined> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, column] of Object.entries(COLUMNS) as [keyof EndpointChanges, string][]) {
    if (changes[key] === undefined) continue; // null is a value: it clears a filter or a rate limit
    const value = changes[key];
    values.push(key === 'headers' || key === 'metadata' ? JSON.stringify(value) : value);
    sets.push(`${column} = $${values.length}`);
  }
  if (changes.disabled === false) sets.push('disabled_reason = NULL', 'failing_since = NULL');
  sets.push('updated_at = now()');
  const { rows } = await db.query<EndpointRow>(`UPDATE endpoints SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values);
  return rows[0] && resealIfStale(db, boxOf(db), rows[0]);
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
  const { rows } = await db.query<{ disabled: boolean; disabled_reason: string | null }>(
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
  const row = rows[0];
  return row?.disabled && row.disabled_reason?.endsWith('(ENDPOINT_DISABLE_AFTER)') ? row.disabled_reason : undefined;
}

/**
 * Reserves the endpoint's next delivery slot under its rate limit and returns when it is (epoch ms).
 * Slots are 1/rate apart; the reservation is one atomic UPDATE, shared by every worker.
 */
export async function reserveDeliverySlot(db: Db, id: string): Promise<number | undefined> {
  const { rows } = await db.query<{ slot_ms: string }>(
    `UPDATE endpoints SET next_slot_at = GREATEST(next_slot_at, clock_timestamp()) + make_interval(secs => 1.0 / rate_limit_per_second)
     WHERE id = $1 AND rate_limit_per_second IS NOT NULL
     RETURNING floor(EXTRACT(EPOCH FROM next_slot_at - make_interval(secs => 1.0 / rate_limit_per_second)) * 1000)::bigint AS slot_ms`,
    [id],
  );
  return rows[0] ? Number(rows[0].slot_ms) : undefined;
}

export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM endpoints WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/**
 * The new secret signs from now on; the old one keeps signing beside it until `graceMs` has passed.
 * Both are sealed under the current key, whatever the old one was stored as; the row is locked
 * meanwhile, so two rotations at once both count.
 */
export async function rotateSecret(db: Db, id: string, secret: string, graceMs: number): Promise<EndpointRow | undefined> {
  const box = boxOf(db);
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const current = await client.query<{ secret: string }>('SELECT secret FROM endpoints WHERE id = $1 FOR UPDATE', [id]);
    if (!current.rows[0]) {
      await client.query('ROLLBACK');
      return undefined;
    }
    const previous = box.seal(box.open(current.rows[0].secret, id), id);
    const { rows } = await client.query<EndpointRow>(
      `UPDATE endpoints SET previous_secret = $3, secret = $2,
         previous_secret_expires_at = now() + make_interval(secs => $4::double precision / 1000), updated_at = now()
       WHERE id = $1 RETURNING *`,
      [id, box.seal(secret, id), previous, graceMs],
    );
    await client.query('COMMIT');
    return opened(box, rows[0]!);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * After HOOKFLOW_ENCRYPTION_KEY is set or rotated: seals every endpoint's secrets under the current key,
 * a page at a time, so the keys in HOOKFLOW_ENCRYPTION_KEYS_OLD can be retired. Safe to run while
 * hookflow runs, and again. `unreadable` lists endpoints whose secrets no configured key opens.
 */
export async function resealSecrets(db: Db, pageSize = 500): Promise<{ checked: number; resealed: number; unreadable: string[] }> {
  const box = boxOf(db);
  const result = { checked: 0, resealed: 0, unreadable: [] as string[] };
  let afterSeq = '0';
  for (;;) {
    const { rows } = await db.query<EndpointRow>('SELECT * FROM endpoints WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, pageSize]);
    for (const row of rows) {
      result.checked += 1;
      const stale = !box.isCurrent(row.secret) || (row.previous_secret !== null && !box.isCurrent(row.previous_secret));
      try {
        await resealIfStale(db, box, row);
        if (stale) result.resealed += 1;
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        result.unreadable.push(row.id);
      }
    }
    if (rows.length < pageSize) return result;
    afterSeq = rows[rows.length - 1]!.seq;
  }
}

/**
 * One page of the enabled endpoints a message goes to: the tenant's, subscribed to the type (an empty
 * list means every type), and sharing a channel when the endpoint names channels; each with its filter,
 * which the caller applies (activities/index.ts). `lastSeq` counts the page before any filter drops one.
 */
export async function matchingEndpoints(
  db: Db,
  q: { tenantId: string; eventType: string; channels: string[]; afterSeq?: string; limit: number },
): Promise<{ endpoints: { id: string; filter: string | null }[]; lastSeq: string | undefined }> {
  const { rows } = await db.query<{ id: string; seq: string; filter: string | null }>(
    `SELECT id, seq, filter FROM endpoints
     WHERE tenant_id = $1 AND NOT disabled
       AND (cardinality(event_types) = 0 OR $2 = ANY (event_types))
       AND (cardinality(channels) = 0 OR channels && $3::text[])
       AND ($4::bigint IS NULL OR seq < $4)
     ORDER BY seq DESC LIMIT $5`,
    [q.tenantId, q.eventType, q.channels, q.afterSeq ?? null, q.limit],
  );
  return { endpoints: rows.map(({ id, filter }) => ({ id, filter })), lastSeq: rows.length === q.limit ? rows[rows.length - 1]!.seq : undefined };
}
