-- Up Migration

-- The reconciler's walk through pending deliveries that nothing has written for a while
-- (src/db/deliveries.ts quietDeliveries): ordered by when something should have written them last,
-- over pending rows only, so its cost follows the rows that are pending, not the table.
-- Its other lookups go by (message_id, endpoint_id), the primary key.
CREATE INDEX deliveries_pending_due ON deliveries ((coalesce(next_attempt_at, updated_at)), message_id, endpoint_id)
  WHERE status = 'pending';

-- The fan-out page that created a row: the endpoint seq its page started after (0 for the first page).
-- A resolveEndpoints that runs again for the same page (its first result never reached the workflow)
-- removes the rows of its first run that it no longer resolves to, before any delivery run could
-- claim them. Null for rows made otherwise (test sends, redeliveries).
ALTER TABLE deliveries ADD COLUMN page_after_seq bigint;

-- Down Migration
ALTER TABLE deliveries DROP COLUMN page_after_seq;
DROP INDEX deliveries_pending_due;
