-- Ingest bookkeeping: offsets stored with the data, quarantined messages, and the current
-- state of each GPU as its heartbeats report it.

-- The next offset to read per (consumer group, topic, partition), advanced in the same transaction
-- as the rows it covers. owner_epoch fences writers: taking over a partition increments it, and a
-- batch may only commit while the epoch it was read under is still current.
CREATE TABLE ingest_offsets (
    consumer_group  text    NOT NULL,
    topic           text    NOT NULL,
    partition       integer NOT NULL CHECK (partition >= 0),
    next_offset     bigint  NOT NULL CHECK (next_offset >= 0),
    owner_epoch     bigint  NOT NULL DEFAULT 0,
    owner_id        text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Messages (or single elements of an array message) that failed decoding or validation.
CREATE TABLE quarantine (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quarantined_at  timestamptz NOT NULL DEFAULT now(),
    topic           text    NOT NULL,
    partition       integer NOT NULL,
    "offset"        bigint  NOT NULL,
    element_index   integer,            -- position inside an array message; null for the whole message
    message_key     bytea,
    raw_value       bytea,              -- the message value exactly as received
    reason          text    NOT NULL,   -- machine-readable code, e.g. utilization_out_of_range
    detail          text    NOT NULL    -- what a person needs to fix the agent
);
CREATE UNIQUE INDEX quarantine_message_idx ON quarantine (topic, partition, "offset", COALESCE(element_index, -1));
CREATE INDEX quarantine_time_idx ON quarantine (quarantined_at DESC);
CREATE INDEX quarantine_reason_idx ON quarantine (reason, quarantined_at DESC);

-- Latest heartbeat per GPU; no foreign key to gpus so a GPU not yet in the inventory never
-- stops the ingest.
CREATE TABLE gpu_state (
    gpu_id          text PRIMARY KEY,
    provider_id     text NOT NULL,
    last_seen       timestamptz NOT NULL,
    reported_status text NOT NULL CHECK (reported_status IN ('healthy', 'degraded', 'unhealthy')),
    agent_version   text NOT NULL,
    driver_version  text NOT NULL,
    uptime_s        bigint,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
