-- Up Migration

-- The next free delivery slot of an endpoint with rateLimitPerSecond: each delivery reserves one slot,
-- 1/rate seconds after the previous, in this row, so every worker honours the same limit.
ALTER TABLE endpoints ADD COLUMN next_slot_at timestamptz;

-- Down Migration
ALTER TABLE endpoints DROP COLUMN next_slot_at;
