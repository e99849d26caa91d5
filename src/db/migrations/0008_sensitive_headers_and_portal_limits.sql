-- Up Migration

-- Credential headers of an endpoint (authorization, proxy-authorization, cookie, or a name containing
-- token, secret, key, auth or password, in any case: src/webhooks/endpoint-headers.ts) are kept apart from
-- the others, as the JSON of a {name: value} object sealed like a signing secret (src/db/endpoints.ts), and
-- never shown again. The existing ones move here as plaintext JSON, the form written without a key: a
-- process with HOOKFLOW_ENCRYPTION_KEY seals them at start (the partial index finds them), and
-- `npm run reencrypt-secrets` covers them as it covers the secrets.
CREATE FUNCTION pg_temp.sensitive_header(name text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT lower(name) IN ('authorization', 'proxy-authorization', 'cookie') OR lower(name) ~ '(token|secret|key|auth|password)'
$$;

ALTER TABLE endpoints ADD COLUMN sensitive_headers text;
UPDATE endpoints SET
  sensitive_headers = (SELECT jsonb_object_agg(key, value) FROM jsonb_each(headers) WHERE pg_temp.sensitive_header(key))::text,
  headers = COALESCE((SELECT jsonb_object_agg(key, value) FROM jsonb_each(headers) WHERE NOT pg_temp.sensitive_header(key)), '{}'::jsonb)
WHERE EXISTS (SELECT 1 FROM jsonb_object_keys(headers) AS k WHERE pg_temp.sensitive_header(k));
CREATE INDEX endpoints_plaintext_headers ON endpoints (seq) WHERE sensitive_headers NOT LIKE 'enc:%';

-- Attempts recorded the request headers as sent, credentials included; they are kept masked from now on,
-- and those recorded before lose theirs here. One pass over the attempts that have request headers.
UPDATE attempts SET request_headers = (
  SELECT jsonb_object_agg(key, CASE WHEN pg_temp.sensitive_header(key) THEN '"********"'::jsonb ELSE value END)
  FROM jsonb_each(request_headers)
)
WHERE request_headers IS NOT NULL
  AND EXISTS (SELECT 1 FROM jsonb_object_keys(request_headers) AS k WHERE pg_temp.sensitive_header(k));

-- The portal's write limits (src/api/portal-limits.ts): rate-limiter-flexible's Postgres store, one row
-- per session and kind of write, shared by every API process. The library's own table layout.
CREATE TABLE portal_write_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);

-- Endpoints created through a portal session count against PORTAL_MAX_ENDPOINTS of their tenant.
ALTER TABLE endpoints ADD COLUMN portal_session_id text;
CREATE INDEX endpoints_tenant_portal ON endpoints (tenant_id) WHERE portal_session_id IS NOT NULL;

-- Down Migration
DROP INDEX endpoints_tenant_portal;
ALTER TABLE endpoints DROP COLUMN portal_session_id;
DROP TABLE portal_write_limits;
DROP INDEX endpoints_plaintext_headers;
-- Credential headers go back among the others, which only works for plaintext ones: re-encrypt them to
-- plaintext first (HOOKFLOW_ENCRYPTION_KEY moved to HOOKFLOW_ENCRYPTION_KEYS_OLD, `npm run reencrypt-secrets`).
-- Masked attempt headers stay masked.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM endpoints WHERE sensitive_headers LIKE 'enc:%') THEN
    RAISE EXCEPTION 'endpoint credential headers are encrypted: run npm run reencrypt-secrets with the key in HOOKFLOW_ENCRYPTION_KEYS_OLD and no HOOKFLOW_ENCRYPTION_KEY first';
  END IF;
END $$;
UPDATE endpoints SET headers = headers || sensitive_headers::jsonb WHERE sensitive_headers IS NOT NULL;
ALTER TABLE endpoints DROP COLUMN sensitive_headers;
