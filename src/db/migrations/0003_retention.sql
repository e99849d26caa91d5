-- Up Migration

-- Retention purges the oldest messages in batches (src/db/retention.ts); each batch is found through
-- this index instead of a scan of the whole table. Attempts and deliveries are found by message_id
-- through the indexes that already start with it.
CREATE INDEX messages_created_at ON messages (created_at);

-- Down Migration
DROP INDEX messages_created_at;
