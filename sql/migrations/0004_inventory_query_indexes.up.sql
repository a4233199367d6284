-- Indexes for the inventory API's reads: each GET /gpus sort key gets a (key, id) index, the
-- same shape as the keyset predicate (key, id) > (last key, last id) and its ORDER BY, so a page
-- is an index range scan whatever its depth. (provider, model and region got theirs in 0001.)
CREATE INDEX gpus_memory_idx ON gpus (memory_mib, id);
CREATE INDEX gpus_price_idx ON gpus (price_per_hour, id);
CREATE INDEX gpus_admin_status_idx ON gpus (status, id);
CREATE INDEX gpus_created_idx ON gpus (created_at, id);
CREATE INDEX gpus_updated_idx ON gpus (updated_at, id);

-- "Has the latest result of any check failed?" (derived GPU status) looks up the newest row per
-- (gpu_id, check_name).
CREATE INDEX gpu_health_checks_latest_idx ON gpu_health_checks (gpu_id, check_name, checked_at DESC, id DESC);

-- GET /allocations: newest first, keyset by (starts_at, request_id).
CREATE INDEX allocations_recent_idx ON allocations (starts_at DESC, request_id DESC);
