DO $migration$
BEGIN
    -- Only drop the time_bucket this project made; under TimescaleDB it belongs to the extension.
    IF (SELECT mode FROM storage_mode) = 'partitioned' THEN
        DROP FUNCTION IF EXISTS time_bucket(interval, timestamptz);
    END IF;
END
$migration$;
DROP FUNCTION IF EXISTS drop_daily_partitions_before(regclass, date);
DROP FUNCTION IF EXISTS ensure_daily_partitions(regclass, date, date);
DROP TABLE IF EXISTS gpu_heartbeat;
DROP TABLE IF EXISTS gpu_usage;
DROP TABLE IF EXISTS storage_mode;
