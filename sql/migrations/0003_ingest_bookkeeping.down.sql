DROP TABLE IF EXISTS gpu_state;
DROP TABLE IF EXISTS quarantine;
DROP TABLE IF EXISTS ingest_offsets;
