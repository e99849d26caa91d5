import type { Db } from './pool';

export type PortalTheme = { name?: string; primaryColor?: string; logoUrl?: string };

export type PortalSessionRow = {
  id: string;
  tenant_id: string;
  read_only: boolean;
  theme: PortalTheme | null;
  expires_at: Date;
  revoked_at: Date | null;
  created_at: Date;
};

export type NewPortalSession = { id: string; tokenHash: Buffer; tenantId: string; readOnly: boolean; theme: PortalTheme | null; expiresInMs: number };

/** The expiry is computed by Postgres, the clock every later check compares it with. */
export async function insertPortalSession(db: Db, s: NewPortalSession): Promise<PortalSessionRow> {
  const { rows } = await db.query<PortalSessionRow>(
    `INSERT INTO portal_sessions (id, token_hash, tenant_id, read_only, theme, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::double precision / 1000))
     RETURNING id, tenant_id, read_only, theme, expires_at, revoked_at, created_at`,
    [s.id, s.tokenHash, s.tenantId, s.readOnly, s.theme === null ? null : JSON.stringify(s.theme), s.expiresInMs],
  );
  return rows[0]!;
}

/** The session a token hash opens right now: neither expired nor revoked. */
export async function activePortalSession(db: Db, tokenHash: Buffer): Promise<PortalSessionRow | undefined> {
  const { rows } = await db.query<PortalSessionRow>(
    `SELECT id, tenant_id, read_only, theme, expires_at, revoked_at, created_at FROM portal_sessions
     WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()`,
    [tokenHash],
  );
  return rows[0];
}

/** Revokes the session; false when no session has that token. Revoking twice is not an error. */
export async function revokePortalSession(db: Db, tokenHash: Buffer): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE portal_sessions SET revoked_at = COALESCE(revoked_at, now()) WHERE token_hash = $1',
    [tokenHash],
  );
  return (rowCount ?? 0) > 0;
}
