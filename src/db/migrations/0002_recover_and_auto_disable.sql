-- Up Migration

-- When the endpoint's current run of failures began; cleared by any success. Auto-disable compares it
-- with ENDPOINT_DISABLE_AFTER.
ALTER TABLE endpoints ADD COLUMN failing_since timestamptz;

-- Recovery pages through one endpoint's failed deliveries in a time window, in a stable order.
CREATE INDEX deliveries_endpoint_failed ON deliveries (endpoint_id, updated_at, message_id) WHERE status = 'failed';

-- Down Migration
DROP INDEX deliveries_endpoint_failed;
ALTER TABLE endpoints DROP COLUMN failing_since;
