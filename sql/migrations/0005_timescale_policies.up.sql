-- TimescaleDB mode only: compress chunks once they are a week old and drop them after the retention
-- window, as jobs inside the database, so production keeps its size without an outside scheduler.
-- The partitioned mode has no compression; `pipeline partitions maintain` drops its old days.
--
-- The retention job starts at 30 days, the default of Retention:Window; `pipeline partitions maintain`
-- re-registers it whenever Retention:Window says otherwise, so configuration stays the one source.
DO $migration$
BEGIN
    IF (SELECT mode FROM storage_mode) = 'timescaledb' THEN
        -- Readers ask for one GPU over a time range: segmenting by gpu_id keeps each GPU's samples in
        -- their own compressed batches, ordered newest first like the (gpu_id, time DESC) index.
        ALTER TABLE gpu_usage SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'gpu_id',
            timescaledb.compress_orderby = 'time DESC');
        ALTER TABLE gpu_heartbeat SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'gpu_id',
            timescaledb.compress_orderby = 'time DESC');
        -- A week leaves late samples (agents that were offline, replays) landing in uncompressed chunks.
        PERFORM add_compression_policy('gpu_usage', compress_after => INTERVAL '7 days');
        PERFORM add_compression_policy('gpu_heartbeat', compress_after => INTERVAL '7 days');
        PERFORM add_retention_policy('gpu_usage', drop_after => INTERVAL '30 days');
        PERFORM add_retention_policy('gpu_heartbeat', drop_after => INTERVAL '30 days');
    END IF;
END
$migration$;
