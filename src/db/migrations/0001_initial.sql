-- Up Migration

-- Every list is newest first with keyset paging on `seq`, so each list query has an index that
-- starts with its filter and ends with seq.

CREATE TABLE endpoints (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  url text NOT NULL,
  description text NOT NULL DEFAULT '',
  event_types text[] NOT NULL DEFAULT '{}',
  channels text[] NOT NULL DEFAULT '{}',
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  headers jsonb NOT NULL DEFAULT '{}',
  disabled boolean NOT NULL DEFAULT false,
  disabled_reason text,
  rate_limit_per_second integer,
  retry_schedule_ms integer[],
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_tenant_seq ON endpoints (tenant_id, seq DESC);

-- payload is `json`, not `jsonb`: it keeps the producer's key order and spacing-free text, so the body
-- a receiver verifies is the payload exactly as it was accepted.
CREATE TABLE messages (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  event_type text NOT NULL,
  payload json NOT NULL,
  channels text[] NOT NULL DEFAULT '{}',
  workflow_started boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_seq ON messages (seq DESC);
CREATE INDEX messages_tenant_seq ON messages (tenant_id, seq DESC);
CREATE INDEX messages_tenant_type_seq ON messages (tenant_id, event_type, seq DESC);
CREATE INDEX messages_type_seq ON messages (event_type, seq DESC);

-- One row per (message, endpoint): the delivery's current state. endpoint_id has no foreign key on
-- purpose: the history of a deleted endpoint stays readable.
CREATE TABLE deliveries (
  message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, endpoint_id)
);
CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint_id, status, updated_at);
CREATE INDEX deliveries_status_message ON deliveries (status, message_id);

CREATE TABLE attempts (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  id text PRIMARY KEY,
  message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  endpoint_id text NOT NULL,
  attempt integer NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  status_code integer,
  duration_ms integer NOT NULL,
  error text,
  response_body text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_message_seq ON attempts (message_id, seq DESC);
CREATE INDEX attempts_endpoint_seq ON attempts (endpoint_id, seq DESC);
CREATE INDEX attempts_endpoint_status_seq ON attempts (endpoint_id, status, seq DESC);

CREATE TABLE event_types (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  schema jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE event_types;
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE messages;
DROP TABLE endpoints;
