-- Time series: gpu_usage and gpu_heartbeat.
-- The storage mode is decided here, once: TimescaleDB hypertables when the timescaledb extension
-- is available (production), native range partitioning by day otherwise (embedded default, CI).
-- Queries use the same SQL on both: time_bucket() exists in both modes (see the end of this file).
--
-- A sample is identified by (gpu_id, time): the unique index makes an agent's retry a duplicate
-- rather than a second row, and serves "one GPU over a time range".

CREATE TABLE storage_mode (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    mode      text NOT NULL CHECK (mode IN ('timescaledb', 'partitioned')),
    chosen_at timestamptz NOT NULL DEFAULT now()
);

DO $migration$
DECLARE
    usage_columns text := $cols$
        time              timestamptz NOT NULL,
        gpu_id            text        NOT NULL,
        provider_id       text        NOT NULL,
        utilization_pct   real        NOT NULL,
        memory_used_mib   bigint      NOT NULL,
        memory_total_mib  bigint      NOT NULL,
        temperature_c     real        NOT NULL,
        power_w           real        NOT NULL,
        sm_clock_mhz      integer,
        mem_clock_mhz     integer,
        ecc_errors        bigint
    $cols$;
    heartbeat_columns text := $cols$
        time              timestamptz NOT NULL,
        gpu_id            text        NOT NULL,
        provider_id       text        NOT NULL,
        status            text        NOT NULL,
        agent_version     text        NOT NULL,
        driver_version    text        NOT NULL,
        uptime_s          bigint
    $cols$;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        EXECUTE format('CREATE TABLE gpu_usage (%s)', usage_columns);
        EXECUTE format('CREATE TABLE gpu_heartbeat (%s)', heartbeat_columns);
        -- One-day chunks: a fleet of 1,000 GPUs sampling every second writes about 86M usage rows a
        -- day, whose chunk and (gpu_id, time) index stay inside shared_buffers on a 32-64 GB server,
        -- as TimescaleDB advises (active chunks within about 25% of memory). Much larger fleets
        -- should shorten it with set_chunk_time_interval; docs/storage.md explains.
        -- No default indexes: the indexes below are the same in both modes, and TimescaleDB's
        -- default (time DESC) index would take the name gpu_usage_time_idx first.
        PERFORM create_hypertable('gpu_usage', by_range('time', INTERVAL '1 day'), create_default_indexes => false);
        PERFORM create_hypertable('gpu_heartbeat', by_range('time', INTERVAL '1 day'), create_default_indexes => false);
        INSERT INTO storage_mode (mode) VALUES ('timescaledb');
    ELSE
        EXECUTE format('CREATE TABLE gpu_usage (%s) PARTITION BY RANGE (time)', usage_columns);
        EXECUTE format('CREATE TABLE gpu_heartbeat (%s) PARTITION BY RANGE (time)', heartbeat_columns);
        INSERT INTO storage_mode (mode) VALUES ('partitioned');
    END IF;
END
$migration$;

CREATE UNIQUE INDEX gpu_usage_gpu_time_idx ON gpu_usage (gpu_id, time DESC);
CREATE UNIQUE INDEX gpu_heartbeat_gpu_time_idx ON gpu_heartbeat (gpu_id, time DESC);
CREATE INDEX gpu_usage_time_idx ON gpu_usage (time DESC);
CREATE INDEX gpu_heartbeat_time_idx ON gpu_heartbeat (time DESC);

-- Partition upkeep for the partitioned mode (no-ops under TimescaleDB, which makes chunks itself).
-- Partitions are daily, named <table>_pYYYYMMDD, bounds in UTC.
CREATE FUNCTION ensure_daily_partitions(parent regclass, first_day date, last_day date)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    day date;
    created integer := 0;
    child text;
BEGIN
    IF (SELECT mode FROM storage_mode) <> 'partitioned' THEN
        RETURN 0;
    END IF;
    FOR day IN SELECT generate_series(first_day, last_day, INTERVAL '1 day')::date LOOP
        child := format('%s_p%s', parent::text, to_char(day, 'YYYYMMDD'));
        IF to_regclass(child) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                child, parent,
                (day::timestamp AT TIME ZONE 'UTC'),
                ((day + 1)::timestamp AT TIME ZONE 'UTC'));
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$fn$;

CREATE FUNCTION drop_daily_partitions_before(parent regclass, cutoff date)
RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    IF (SELECT mode FROM storage_mode) <> 'partitioned' THEN
        RETURN 0;
    END IF;
    FOR part IN
        SELECT c.oid::regclass::text AS name
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent
          AND c.relname ~ '_p[0-9]{8}$'
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
    LOOP
        EXECUTE format('DROP TABLE %s', part.name);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END
$fn$;

-- Partitions for the recent past and the coming week exist from the start; the maintenance
-- command (and the ingest, hourly) keeps the window moving.
SELECT ensure_daily_partitions('gpu_usage', (now() AT TIME ZONE 'UTC')::date - 31, (now() AT TIME ZONE 'UTC')::date + 7);
SELECT ensure_daily_partitions('gpu_heartbeat', (now() AT TIME ZONE 'UTC')::date - 31, (now() AT TIME ZONE 'UTC')::date + 7);

-- time_bucket() in the partitioned mode, with TimescaleDB's default origin (Monday 2000-01-03)
-- so dashboards give the same buckets in both modes.
DO $migration$
BEGIN
    IF (SELECT mode FROM storage_mode) = 'partitioned' THEN
        CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz)
        RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-03 00:00:00+00');
    END IF;
END
$migration$;
