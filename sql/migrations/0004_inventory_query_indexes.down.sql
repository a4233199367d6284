DROP INDEX IF EXISTS allocations_recent_idx;
DROP INDEX IF EXISTS gpu_health_checks_latest_idx;
DROP INDEX IF EXISTS gpus_updated_idx;
DROP INDEX IF EXISTS gpus_created_idx;
DROP INDEX IF EXISTS gpus_admin_status_idx;
DROP INDEX IF EXISTS gpus_price_idx;
DROP INDEX IF EXISTS gpus_memory_idx;
