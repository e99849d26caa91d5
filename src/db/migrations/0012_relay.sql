-- Up Migration

-- Local development relay (`hookflow listen`): a relay endpoint's deliveries travel down a WebSocket held by
-- one API process instead of over HTTP. Its url is <PUBLIC_URL>/relay/<id>, where `listen` connects.
ALTER TABLE endpoints ADD COLUMN relay boolean NOT NULL DEFAULT false;

-- One signed request on its way from a worker to the API process that holds the relay's connection, and
-- its answer on the way back (docs/relay.md). The worker deletes its row once answered; rows a crashed
-- worker left are swept after an hour. The endpoint's credential headers are in `sealed_headers`, sealed like
-- the endpoint's own (HOOKFLOW_ENCRYPTION_KEY), never in `headers`.
CREATE TABLE relay_requests (
  id text PRIMARY KEY,
  endpoint_id text NOT NULL,
  headers jsonb NOT NULL,
  sealed_headers text,
  body text NOT NULL,
  claimed_at timestamptz,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX relay_requests_created_at ON relay_requests (created_at);
