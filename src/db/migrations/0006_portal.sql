-- Up Migration

-- Customer portal sessions (POST /portal/sessions): a bearer token for one tenant. Only the token's
-- SHA-256 is kept, so a copy of this table opens no portal; revoking sets revoked_at and counts at once
-- because every request looks its session up.
CREATE TABLE portal_sessions (
  id text PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  tenant_id text NOT NULL,
  read_only boolean NOT NULL DEFAULT false,
  theme jsonb,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);

-- The portal's per-endpoint chart counts one endpoint's attempts over the last 24 h or 7 d.
CREATE INDEX attempts_endpoint_created_at ON attempts (endpoint_id, created_at);

-- Down Migration
DROP INDEX attempts_endpoint_created_at;
DROP TABLE portal_sessions;
