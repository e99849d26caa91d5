-- Up Migration

-- Ordered delivery (docs/ordering.md). An endpoint's `ordering` holds for the messages whose seq is above
-- ordering_since_seq (the last message accepted before the PATCH that set it); older ones keep
-- previous_ordering. Existing endpoints are unordered.
ALTER TABLE endpoints ADD COLUMN ordering text NOT NULL DEFAULT 'unordered' CHECK (ordering IN ('unordered', 'fifo'));
ALTER TABLE endpoints ADD COLUMN previous_ordering text NOT NULL DEFAULT 'unordered' CHECK (previous_ordering IN ('unordered', 'fifo'));
ALTER TABLE endpoints ADD COLUMN ordering_since_seq bigint NOT NULL DEFAULT 0;
-- Routing a message asks once whether its tenant has, or had, a FIFO endpoint.
CREATE INDEX endpoints_tenant_fifo ON endpoints (tenant_id) WHERE ordering = 'fifo' OR previous_ordering = 'fifo';

ALTER TABLE messages ADD COLUMN ordering_key text;

-- A message whose endpoints are not resolved yet: inserted with the message, deleted by the routing of its
-- last page. A FIFO delivery does not take its queue's turn while an earlier message of its tenant that may
-- join the same queue is here, so message N+1 routed before message N still goes after it. Small: only
-- messages in flight (and those whose workflow never started, which stop counting after a minute).
CREATE TABLE unrouted_messages (
  message_id text PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
  tenant_id text NOT NULL,
  seq bigint NOT NULL,
  ordering_key text,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unrouted_messages_tenant_seq ON unrouted_messages (tenant_id, seq);

-- A FIFO delivery's queue is (endpoint_id, queue_key): the message's orderingKey, '' for none; NULL is an
-- unordered delivery. queue_seq is its place: the message's seq, or a fresh number from the same sequence
-- when a redelivery or a recovery queues it again behind those waiting.
ALTER TABLE deliveries ADD COLUMN queue_key text;
ALTER TABLE deliveries ADD COLUMN queue_seq bigint;
CREATE INDEX deliveries_queue ON deliveries (endpoint_id, queue_key, queue_seq) WHERE status = 'pending' AND queue_key IS NOT NULL;

-- One row per FIFO queue with work: deleted when its last delivery has ended. head_message_id holds the
-- turn (its delivery runs); without one the queue is held (the endpoint is disabled) or blocked_by an
-- earlier message of the tenant still being routed. last_message_id held the turn before.
CREATE TABLE fifo_queues (
  endpoint_id text NOT NULL,
  ordering_key text NOT NULL,
  tenant_id text NOT NULL,
  head_message_id text,
  turn_at timestamptz,
  last_message_id text,
  blocked_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (endpoint_id, ordering_key)
);
CREATE INDEX fifo_queues_idle ON fifo_queues (endpoint_id) WHERE head_message_id IS NULL;
CREATE INDEX fifo_queues_blocked_by ON fifo_queues (blocked_by) WHERE blocked_by IS NOT NULL;

-- Down Migration
DROP TABLE fifo_queues;
DROP INDEX deliveries_queue;
ALTER TABLE deliveries DROP COLUMN queue_seq;
ALTER TABLE deliveries DROP COLUMN queue_key;
DROP TABLE unrouted_messages;
ALTER TABLE messages DROP COLUMN ordering_key;
DROP INDEX endpoints_tenant_fifo;
ALTER TABLE endpoints DROP COLUMN ordering_since_seq;
ALTER TABLE endpoints DROP COLUMN previous_ordering;
ALTER TABLE endpoints DROP COLUMN ordering;
