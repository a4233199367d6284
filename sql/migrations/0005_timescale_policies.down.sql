DO $migration$
DECLARE
    hypertable regclass;
BEGIN
    IF (SELECT mode FROM storage_mode) = 'timescaledb' THEN
        FOREACH hypertable IN ARRAY ARRAY['gpu_usage', 'gpu_heartbeat']::regclass[] LOOP
            PERFORM remove_retention_policy(hypertable, if_exists => true);
            PERFORM remove_compression_policy(hypertable, if_exists => true);
            -- Compression cannot be switched off while a chunk is compressed; true: skip uncompressed chunks.
            PERFORM decompress_chunk(chunk, true) FROM show_chunks(hypertable) AS chunk;
            EXECUTE format('ALTER TABLE %s SET (timescaledb.compress = false)', hypertable);
        END LOOP;
    END IF;
END
$migration$;
