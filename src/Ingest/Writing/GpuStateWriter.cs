using Npgsql;
using NpgsqlTypes;
using Pipeline.Ingest.Decoding;

namespace Pipeline.Ingest.Writing;

/// <summary>
/// Keeps gpu_state (the inventory's view of each GPU's latest heartbeat) current: one set-based
/// upsert per batch with the newest heartbeat per GPU, applied only where it is newer than what is
/// stored, so an old heartbeat replayed or delivered late never rolls the state back.
/// </summary>
public sealed class GpuStateWriter
{
    private readonly Dictionary<string, HeartbeatSample> _latest = new(StringComparer.Ordinal);

    public async Task<int> UpsertAsync(NpgsqlConnection conn, List<HeartbeatSample> heartbeats, CancellationToken cancellation)
    {
        if (heartbeats.Count == 0) return 0;
        _latest.Clear();
        foreach (var h in heartbeats)
            if (!_latest.TryGetValue(h.GpuId, out var seen) || seen.Time < h.Time) _latest[h.GpuId] = h;

        var n = _latest.Count;
        var gpuIds = new string[n];
        var providers = new string[n];
        var times = new DateTime[n];
        var statuses = new string[n];
        var agents = new string[n];
        var drivers = new string[n];
        var uptimes = new long?[n];
        var i = 0;
        foreach (var h in _latest.Values)
        {
            gpuIds[i] = h.GpuId;
            providers[i] = h.ProviderId;
            times[i] = h.Time.UtcDateTime;
            statuses[i] = h.Status;
            agents[i] = h.AgentVersion;
            drivers[i] = h.DriverVersion;
            uptimes[i] = h.UptimeS;
            i++;
        }

        await using var cmd = new NpgsqlCommand(
            """
            INSERT INTO gpu_state AS s (gpu_id, provider_id, last_seen, reported_status, agent_version, driver_version, uptime_s, updated_at)
            SELECT g, p, t, st, a, d, u, now()
              FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS v(g, p, t, st, a, d, u)
            ON CONFLICT (gpu_id) DO UPDATE
               SET provider_id = EXCLUDED.provider_id, last_seen = EXCLUDED.last_seen,
                   reported_status = EXCLUDED.reported_status, agent_version = EXCLUDED.agent_version,
                   driver_version = EXCLUDED.driver_version, uptime_s = EXCLUDED.uptime_s, updated_at = now()
             WHERE s.last_seen < EXCLUDED.last_seen
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = gpuIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = providers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<DateTime[]> { TypedValue = times, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = statuses, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = agents, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = drivers, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = uptimes, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        return await cmd.ExecuteNonQueryAsync(cancellation);
    }
}
