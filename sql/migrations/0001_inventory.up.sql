-- Inventory: providers, GPUs, allocations, health checks and verification records.
-- Ids of providers and GPUs are the strings the GPU agents report (provider_id, gpu_id),
-- so samples, heartbeats and inventory join without a lookup table.

CREATE EXTENSION IF NOT EXISTS btree_gist;  -- lets the allocation exclusion constraint compare gpu_id with =

CREATE TABLE providers (
    id          text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    contact     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL DEFAULT 1      -- row version for optimistic concurrency (ETag)
);

CREATE TABLE gpus (
    id              text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    provider_id     text NOT NULL REFERENCES providers (id) ON DELETE RESTRICT,
    model           text NOT NULL CHECK (length(model) BETWEEN 1 AND 128),
    memory_mib      integer NOT NULL CHECK (memory_mib > 0),
    region          text NOT NULL CHECK (length(region) BETWEEN 1 AND 64),
    price_per_hour  numeric(12, 4) NOT NULL CHECK (price_per_hour >= 0),
    capabilities    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(capabilities) = 'object'),
    -- Administrative status set by operators; the operational state (online/offline) comes from heartbeats.
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'maintenance', 'retired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         bigint NOT NULL DEFAULT 1
);
CREATE INDEX gpus_provider_idx ON gpus (provider_id, id);
CREATE INDEX gpus_model_idx ON gpus (model, id);
CREATE INDEX gpus_region_idx ON gpus (region, id);
CREATE INDEX gpus_capabilities_idx ON gpus USING gin (capabilities jsonb_path_ops);

CREATE TABLE allocations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id   uuid NOT NULL,                  -- one allocation request grants several GPUs
    gpu_id       text NOT NULL REFERENCES gpus (id) ON DELETE RESTRICT,
    tenant       text NOT NULL CHECK (length(tenant) BETWEEN 1 AND 256),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,           -- lease end; an expired lease frees the GPU by itself
    released_at  timestamptz,                    -- set when released early
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (released_at IS NULL OR released_at >= starts_at),
    -- The last line of defence: no two leases of one GPU may overlap in time, whatever the code does.
    CONSTRAINT allocations_no_double_booking EXCLUDE USING gist (
        gpu_id WITH =,
        tstzrange(starts_at, LEAST(ends_at, COALESCE(released_at, ends_at)), '[)') WITH &&
    )
);
CREATE INDEX allocations_request_idx ON allocations (request_id);
CREATE INDEX allocations_tenant_idx ON allocations (tenant, starts_at DESC);

CREATE TABLE gpu_health_checks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gpu_id      text NOT NULL REFERENCES gpus (id) ON DELETE CASCADE,
    checked_at  timestamptz NOT NULL DEFAULT now(),
    check_name  text NOT NULL CHECK (length(check_name) BETWEEN 1 AND 128),
    passed      boolean NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX gpu_health_checks_gpu_idx ON gpu_health_checks (gpu_id, checked_at DESC, id DESC);

CREATE TABLE gpu_verifications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gpu_id       text NOT NULL REFERENCES gpus (id) ON DELETE CASCADE,
    verified_at  timestamptz NOT NULL DEFAULT now(),
    verifier     text NOT NULL CHECK (length(verifier) BETWEEN 1 AND 256),
    result       text NOT NULL CHECK (result IN ('passed', 'failed', 'inconclusive')),
    evidence     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX gpu_verifications_gpu_idx ON gpu_verifications (gpu_id, verified_at DESC, id DESC);
