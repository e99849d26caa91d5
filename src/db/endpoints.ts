import type { Db } from './pool';
import { page } from './cursor';
import { createSecretBox, SecretBoxError, type SecretBox } from '../secrets/secret-box';
import { guardHeaders, isSensitiveHeader, revealHeaders, splitHeaders, type EndpointHeaders } from '../webhooks/endpoint-headers';

/**
 * An endpoint as this module hands it out: `secret` and `previous_secret` are plaintext; `headers` holds
 * every header, the sensitive ones (credentials) as SensitiveValues, which show only as the mask.
 */
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
  headers: EndpointHeaders;
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
  ordering: Ordering;
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
  ordering: Ordering;
};

export type Ordering = 'unordered' | 'fifo';

export type EndpointChanges = Partial<Omit<NewEndpoint, 'id' | 'tenantId' | 'secret' | 'relay'>>;

/**
 * A row as stored: `headers` holds the plain headers only; `sensitive_headers` the others, as the JSON of a
 * {name: value} object sealed like a secret (plaintext JSON when written without a key), null when none.
 */
type StoredEndpointRow = Omit<EndpointRow, 'headers'> & { headers: Record<string, string>; sensitive_headers: string | null };

/**
 * Every read and write of `secret`, `previous_secret` and `sensitive_headers` goes through this module,
 * which seals them with the pool's SecretBox (HOOKFLOW_ENCRYPTION_KEY) on the way in and opens them on the
 * way out. The box is attached to the pool once at start (`useSecretBox`), so the API and the activities
 * keep passing `db`. A pool without a box writes plaintext and reads plaintext only.
 */
const boxes = new WeakMap<Db, SecretBox>();
const PLAINTEXT = createSecretBox();

export function useSecretBox(db: Db, box: SecretBox): void {
  boxes.set(db, box);
}

const boxOf = (db: Db): SecretBox => boxes.get(db) ?? PLAINTEXT;
/** The pool's SecretBox, for other values sealed like secrets (a relayed request's credential headers, src/db/relay.ts). */
export const secretBoxOf = boxOf;

/** The sealed headers are bound to their column too, so a secret moved into it (or out) does not open. */
const headersContext = (id: string) => `${id}:headers`;

function opened(box: SecretBox, row: StoredEndpointRow): EndpointRow {
  const { sensitive_headers: sealed, ...rest } = row;
  const sensitive = sealed === null ? {} : (JSON.parse(box.open(sealed, headersContext(row.id))) as Record<string, string>);
  return {
    ...rest,
    secret: box.open(row.secret, row.id),
    previous_secret: row.previous_secret === null ? null : box.open(row.previous_secret, row.id),
    headers: guardHeaders({ ...row.headers, ...sensitive }),
  };
}

/** Both stored columns of an endpoint's headers. */
function storedHeaders(box: SecretBox, id: string, headers: Record<string, string>): { plain: string; sealed: string | null } {
  const { plain, sensitive } = splitHeaders(headers);
  return { plain: JSON.stringify(plain), sealed: Object.keys(sensitive).length === 0 ? null : box.seal(JSON.stringify(sensitive), headersContext(id)) };
}

/**
 * Whether the row is stored as this version writes it now: its secrets and credential headers sealed under
 * the current key, and no credential among the plain headers (as a process older than migration 0008
 * still writes them during a rolling deploy).
 */
const isCurrentRow = (box: SecretBox, row: StoredEndpointRow): boolean =>
  [row.secret, row.previous_secret, row.sensitive_headers].every((stored) => stored === null || box.isCurrent(stored)) &&
  !Object.keys(row.headers).some(isSensitiveHeader);

/**
 * A row whose secrets or credential headers are not sealed under the current key (written before the key
 * was set, or under a key since rotated) is sealed again. Compare-and-set on the stored values, so a rotation
 * that won the race is never overwritten; then there is nothing to do anyway. Returns the row opened.
 */
async function resealIfStale(db: Db, box: SecretBox, row: StoredEndpointRow): Promise<EndpointRow> {
  const plain = opened(box, row);
  if (isCurrentRow(box, row)) return plain;
  const headers = storedHeaders(box, row.id, revealHeaders(plain.headers));
  await db.query(
    `UPDATE endpoints SET secret = $2, previous_secret = $3, headers = $4, sensitive_headers = $5
     WHERE id = $1 AND secret = $6 AND previous_secret IS NOT DISTINCT FROM $7 AND headers = $8::jsonb AND sensitive_headers IS NOT DISTINCT FROM $9`,
    [row.id, box.seal(plain.secret, row.id), plain.previous_secret === null ? null : box.seal(plain.previous_secret, row.id), headers.plain, headers.sealed,
      row.secret, row.previous_secret, JSON.stringify(row.headers), row.sensitive_headers],
  );
  return plain;
}

/** Columns written as they are; `headers` is split into two (storedHeaders), `ordering` moves its boundary too. */
const COLUMNS: Record<Exclude<keyof EndpointChanges, 'headers' | 'ordering'>, string> = {
  url: 'url',
  description: 'description',
  eventTypes: 'event_types',
  channels: 'channels',
  disabled: 'disabled',
  rateLimitPerSecond: 'rate_limit_per_second',
  retryScheduleMs: 'retry_schedule_ms',
  metadata: 'metadata',
  filterJson: 'filter',
};

export function insertEndpoint(db: Db, e: NewEndpoint): Promise<EndpointRow> {
  return insertRow(db, boxOf(db), e, null);
}

async function insertRow(db: Pick<Db, 'query'>, box: SecretBox, e: NewEndpoint, portalSessionId: string | null): Promise<EndpointRow> {
  const headers = storedHeaders(box, e.id, e.headers);
  const { rows } = await db.query<StoredEndpointRow>(
    `INSERT INTO endpoints (id, tenant_id, url, description, event_types, channels, secret, headers, sensitive_headers, disabled,
       rate_limit_per_second, retry_schedule_ms, metadata, filter, portal_session_id, relay, ordering)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING *`,
    [e.id, e.tenantId, e.url, e.description, e.eventTypes, e.channels, box.seal(e.secret, e.id), headers.plain, headers.sealed, e.disabled,
      e.rateLimitPerSecond, e.retryScheduleMs, JSON.stringify(e.metadata), e.filterJson, portalSessionId, e.relay ?? false, e.ordering],
  );
  return opened(box, rows[0]!);
}

/**
 * An endpoint created through a portal session, unless its tenant already has `maxPerTenant` of those
 * (0 = no limit): then undefined. A transaction-scoped advisory lock per tenant makes the count and the
 * insert one step for every API process, so two creations at once cannot both take the last place.
 */
export async function insertPortalEndpoint(db: Db, e: NewEndpoint, o: { sessionId: string; maxPerTenant: number }): Promise<EndpointRow | undefined> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('hookflow.portal-endpoints:' || $1, 0))", [e.tenantId]);
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM endpoints WHERE tenant_id = $1 AND portal_session_id IS NOT NULL',
      [e.tenantId],
    );
    if (o.maxPerTenant > 0 && rows[0]!.n >= o.maxPerTenant) {
      await client.query('ROLLBACK');
      return undefined;
    }
    const endpoint = await insertRow(client, boxOf(db), e, o.sessionId);
    await client.query('COMMIT');
    return endpoint;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointRow | undefined> {
  const { rows } = await db.query<StoredEndpointRow>('SELECT * FROM endpoints WHERE id = $1', [id]);
  return rows[0] && opened(boxOf(db), rows[0]);
}

export async function listEndpoints(db: Db, q: { tenantId?: string; limit: number; afterSeq?: string }) {
  const { rows } = await db.query<StoredEndpointRow>(
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
  for (const [key, column] of Object.entries(COLUMNS) as [Exclude<keyof EndpointChanges, 'headers' | 'ordering'>, string][]) {
    if (changes[key] === undefined) continue; // null is a value: it clears a filter or a rate limit
    const value = changes[key];
    values.push(key === 'metadata' ? JSON.stringify(value) : value);
    sets.push(`${column} = $${values.length}`);
  }
  if (changes.headers !== undefined) {
    const headers = storedHeaders(boxOf(db), id, changes.headers);
    values.push(headers.plain, headers.sealed);
    sets.push(`headers = $${values.length - 1}`, `sensitive_headers = $${values.length}`);
  }
  if (changes.disabled === false) sets.push('disabled_reason = NULL', 'failing_since = NULL');
  if (changes.ordering !== undefined) {
    // A change applies to the messages accepted after it: those above the newest seq now. All three read the
    // row as it was, so a PATCH that repeats the current ordering changes nothing.
    values.push(changes.ordering);
    const n = `$${values.length}::text`;
    sets.push(
      `previous_ordering = CASE WHEN ordering <> ${n} THEN ordering ELSE previous_ordering END`,
      `ordering_since_seq = CASE WHEN ordering <> ${n} THEN (SELECT COALESCE(max(seq), 0) FROM messages) ELSE ordering_since_seq END`,
      `ordering = ${n}`,
    );
  }
  sets.push('updated_at = now()');
  const { rows } = await db.query<StoredEndpointRow>(`UPDATE endpoints SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values);
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
    const { rows } = await client.query<StoredEndpointRow>(
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
 * After HOOKFLOW_ENCRYPTION_KEY is set or rotated: seals every endpoint's secrets and credential headers
 * under the current key, a page at a time, so the keys in HOOKFLOW_ENCRYPTION_KEYS_OLD can be retired.
 * Safe to run while hookflow runs, and again. `unreadable` lists endpoints whose secrets no configured key opens.
 */
export function resealSecrets(db: Db, pageSize = 500): Promise<{ checked: number; resealed: number; unreadable: string[] }> {
  return resealWhere(db, 'true', pageSize);
}

/**
 * At start, with a key set: credential headers still in plaintext (moved apart by migration 0008, or
 * written before the key was set) are sealed now rather than at their endpoint's next write. A partial
 * index finds them, so a start with none to seal reads nothing.
 */
export function sealPlaintextHeaders(db: Db, pageSize = 500): Promise<{ checked: number; resealed: number; unreadable: string[] }> {
  return resealWhere(db, "sensitive_headers NOT LIKE 'enc:%'", pageSize);
}

async function resealWhere(db: Db, where: string, pageSize: number): Promise<{ checked: number; resealed: number; unreadable: string[] }> {
  const box = boxOf(db);
  const result = { checked: 0, resealed: 0, unreadable: [] as string[] };
  let afterSeq = '0';
  for (;;) {
    const { rows } = await db.query<StoredEndpointRow>(`SELECT * FROM endpoints WHERE ${where} AND seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, pageSize]);
    for (const row of rows) {
      result.checked += 1;
      const stale = !isCurrentRow(box, row);
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
