import { isSensitiveHeader } from '../webhooks/endpoint-headers';
import { secretBoxOf } from './endpoints';
import type { Db } from './pool';

/**
 * Postgres as the relay's switchboard (docs/relay.md): a worker writes a request and notifies
 * RELAY_CHANNEL; the API process holding the endpoint's connection claims it, and writes the answer and
 * notifies RELAY_REPLY_CHANNEL. Which endpoints have a connection somewhere is told by advisory locks:
 * each API process holds a shared lock per endpoint it relays, on its listening connection, so a process
 * that dies lets go of them with its connection.
 */
export const RELAY_CHANNEL = 'hookflow_relay';
export const RELAY_REPLY_CHANNEL = 'hookflow_relay_reply';

/** What RELAY_CHANNEL carries: a request to claim, or an endpoint whose connections must close. */
export type RelayNotice = { request: string; endpoint: string } | { deleted: string };

export type StoredResponse =
  | { status: number; headers: Record<string, string>; body: string }
  | { error: { code?: string; message: string } };

/** The advisory-lock key of an endpoint's relay (one 64-bit key; the namespace keeps it apart from others). */
const LOCK_KEY = "hashtextextended('hookflow.relay:' || $1, 0)";

/** Held by the API process's listening connection while it has at least one connection for the endpoint. */
/** A connection whose session holds the locks: the API process's listening one. */
export type Session = { query(sql: string, params: unknown[]): Promise<unknown> };

export async function holdRelayLock(client: Session, endpointId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_lock_shared(${LOCK_KEY})`, [endpointId]);
}

export async function releaseRelayLock(client: Session, endpointId: string): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock_shared(${LOCK_KEY})`, [endpointId]);
}

/**
 * Whether some API process holds a connection for the endpoint: the exclusive lock is refused exactly
 * then. Taken and released within the statement, so it never holds anyone up for longer.
 */
export async function relayConnected(db: Db, endpointId: string): Promise<boolean> {
  const { rows } = await db.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS free`, [endpointId]);
  return !rows[0]!.free;
}

/**
 * Stores the request and tells every API process, in one statement. The endpoint's credential headers are
 * sealed with the pool's SecretBox, as they are in `endpoints`. Rows older than an hour are orphans of
 * crashed workers.
 */
export async function sendRelayRequest(db: Db, r: { id: string; endpointId: string; headers: Record<string, string>; body: string }): Promise<void> {
  const sensitive = Object.entries(r.headers).filter(([name]) => isSensitiveHeader(name));
  const plain = Object.fromEntries(Object.entries(r.headers).filter(([name]) => !isSensitiveHeader(name)));
  const sealed = sensitive.length === 0 ? null : secretBoxOf(db).seal(JSON.stringify(Object.fromEntries(sensitive)), sealContext(r.id));
  await db.query(
    `WITH swept AS (DELETE FROM relay_requests WHERE created_at < now() - interval '1 hour'),
          stored AS (INSERT INTO relay_requests (id, endpoint_id, headers, sealed_headers, body) VALUES ($1, $2, $3, $4, $5))
     SELECT pg_notify($6, $7)`,
    [r.id, r.endpointId, JSON.stringify(plain), sealed, r.body, RELAY_CHANNEL, JSON.stringify({ request: r.id, endpoint: r.endpointId } satisfies RelayNotice)],
  );
}

/** The first API process to claim a request forwards it; any other holder of the same endpoint leaves it. */
export async function claimRelayRequest(db: Db, id: string): Promise<{ headers: Record<string, string>; body: string } | undefined> {
  const { rows } = await db.query<{ headers: Record<string, string>; sealed_headers: string | null; body: string }>(
    'UPDATE relay_requests SET claimed_at = now() WHERE id = $1 AND claimed_at IS NULL RETURNING headers, sealed_headers, body',
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const sensitive = row.sealed_headers === null ? {} : (JSON.parse(secretBoxOf(db).open(row.sealed_headers, sealContext(id))) as Record<string, string>);
  return { headers: { ...row.headers, ...sensitive }, body: row.body };
}

const sealContext = (id: string) => `relay-request:${id}`;

export async function answerRelayRequest(db: Db, id: string, response: StoredResponse): Promise<void> {
  await db.query('WITH answered AS (UPDATE relay_requests SET response = $2 WHERE id = $1) SELECT pg_notify($3, $1)', [id, JSON.stringify(response), RELAY_REPLY_CHANNEL]);
}

/** The request's row, removed: its answer if any, and whether any API process claimed it. */
export async function takeRelayRequest(db: Db, id: string): Promise<{ claimed: boolean; response: StoredResponse | null } | undefined> {
  const { rows } = await db.query<{ claimed_at: Date | null; response: StoredResponse | null }>(
    'DELETE FROM relay_requests WHERE id = $1 RETURNING claimed_at, response',
    [id],
  );
  return rows[0] && { claimed: rows[0].claimed_at !== null, response: rows[0].response };
}

/** Every API process closes the endpoint's relay connections. */
export async function noticeRelayDeleted(db: Db, endpointId: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [RELAY_CHANNEL, JSON.stringify({ deleted: endpointId } satisfies RelayNotice)]);
}

/** Whether an endpoint may be relayed to, and for which tenant: undefined when there is no such endpoint. */
export async function relayEndpoint(db: Db, id: string): Promise<{ tenantId: string; relay: boolean } | undefined> {
  const { rows } = await db.query<{ tenant_id: string; relay: boolean }>('SELECT tenant_id, relay FROM endpoints WHERE id = $1', [id]);
  return rows[0] && { tenantId: rows[0].tenant_id, relay: rows[0].relay };
}
