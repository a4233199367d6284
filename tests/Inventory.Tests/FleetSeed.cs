using Pipeline.TestSupport;

namespace Pipeline.Inventory.Tests;

/// <summary>What a GPU's agent last said, as the ingest would have written it to gpu_state.</summary>
public enum Heartbeat
{
    Healthy,
    Degraded,
    Unhealthy,
    /// <summary>Healthy, but ten minutes ago: older than Inventory:OfflineAfter (2 minutes).</summary>
    Stale,
    /// <summary>No gpu_state row at all.</summary>
    None,
}

/// <summary>Test data written straight to the tables, for tests whose subject is not the write itself.</summary>
public static class FleetSeed
{
    public static Task ProviderAsync(TestDatabase db, string id) =>
        db.ExecuteAsync("INSERT INTO providers (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING", id);

    public static async Task GpuAsync(
        TestDatabase db, string id, string provider, string model = "H100", int memoryMib = 81920, string region = "eu-west",
        decimal price = 2.5m, string capabilities = "{}", string adminStatus = "active", Heartbeat heartbeat = Heartbeat.Healthy)
    {
        await ProviderAsync(db, provider);
        await db.ExecuteAsync(
            "INSERT INTO gpus (id, provider_id, model, memory_mib, region, price_per_hour, capabilities, status) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)",
            id, provider, model, memoryMib, region, price, capabilities, adminStatus);
        await HeartbeatAsync(db, id, provider, heartbeat);
    }

    public static async Task HeartbeatAsync(TestDatabase db, string gpuId, string provider, Heartbeat heartbeat)
    {
        if (heartbeat == Heartbeat.None)
        {
            await db.ExecuteAsync("DELETE FROM gpu_state WHERE gpu_id = $1", gpuId);
            return;
        }
        var (reported, age) = heartbeat switch
        {
            Heartbeat.Degraded => ("degraded", 0),
            Heartbeat.Unhealthy => ("unhealthy", 0),
            Heartbeat.Stale => ("healthy", 600),
            _ => ("healthy", 0),
        };
        await db.ExecuteAsync("""
            INSERT INTO gpu_state (gpu_id, provider_id, last_seen, reported_status, agent_version, driver_version, uptime_s)
            VALUES ($1, $2, now() - make_interval(secs => $3), $4, 'agent-1.4.2', '550.54', 3600)
            ON CONFLICT (gpu_id) DO UPDATE SET last_seen = EXCLUDED.last_seen, reported_status = EXCLUDED.reported_status
            """, gpuId, provider, age, reported);
    }
}
