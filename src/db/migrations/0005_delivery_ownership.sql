-- Up Migration

-- A delivery row belongs to one run of its delivery workflow at a time: the run that claimed it last
-- (run_id, at workflow time claimed_at) is the only one whose writes count, so a late write of an
-- older run never moves the row, and a row is never pending without a run behind it for long.
-- failure_reason says why a delivery failed (last error, cancelled, terminated, timed out, …).
ALTER TABLE deliveries ADD COLUMN run_id text;
ALTER TABLE deliveries ADD COLUMN claimed_at timestamptz;
ALTER TABLE deliveries ADD COLUMN failure_reason text;
-- Under rateLimitPerSecond, a slot reserved for the next attempt and held across a deferral, so waiting
-- for it neither counts as an attempt nor gives the slot away.
ALTER TABLE deliveries ADD COLUMN slot_at timestamptz;

-- What was sent and what came back, for the portal's attempt view: the URL, the request headers
-- (signatures included; the body is the message's envelope, rebuilt from the message) and the
-- response headers. Null on attempts recorded before this migration.
ALTER TABLE attempts ADD COLUMN run_id text;
ALTER TABLE attempts ADD COLUMN url text;
ALTER TABLE attempts ADD COLUMN request_headers jsonb;
ALTER TABLE attempts ADD COLUMN response_headers jsonb;

-- Down Migration
ALTER TABLE attempts DROP COLUMN response_headers;
ALTER TABLE attempts DROP COLUMN request_headers;
ALTER TABLE attempts DROP COLUMN url;
ALTER TABLE attempts DROP COLUMN run_id;
ALTER TABLE deliveries DROP COLUMN slot_at;
ALTER TABLE deliveries DROP COLUMN failure_reason;
ALTER TABLE deliveries DROP COLUMN claimed_at;
ALTER TABLE deliveries DROP COLUMN run_id;
