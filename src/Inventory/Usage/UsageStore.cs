using Npgsql;
using NpgsqlTypes;
using Pipeline.Inventory.Errors;

namespace Pipeline.Inventory.Usage;

/// <summary>
/// Recent usage of one GPU, bucketed by time_bucket() the way the Grafana panels query it; the
/// (gpu_id, time DESC) index of gpu_usage serves the range scan in both storage modes.
/// </summary>
public sealed class UsageStore(NpgsqlDataSource db)
{
    public async Task<UsageView> BucketsAsync(string gpuId, DateTime from, DateTime to, TimeSpan width, CancellationToken cancellation)
    {
        await using (var exists = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM gpus WHERE id = @gpu)"))
        {
            exists.With("gpu", NpgsqlDbType.Text, gpuId);
            if (await exists.ExecuteScalarAsync(cancellation) is not true) throw ProblemException.NotFound($"GPU '{gpuId}' does not exist.");
        }

        await using var cmd = db.CreateCommand("""
            SELECT time_bucket(@width, time) AS bucket, count(*),
                   avg(utilization_pct)::float8, max(utilization_pct)::float8,
                   avg(memory_used_mib)::float8, max(memory_used_mib),
                   avg(temperature_c)::float8, max(temperature_c)::float8,
                   avg(power_w)::float8, max(power_w)::float8
            FROM gpu_usage
            WHERE gpu_id = @gpu AND time >= @from AND time < @to
            GROUP BY bucket ORDER BY bucket
            """);
        cmd.With("width", NpgsqlDbType.Interval, width).With("gpu", NpgsqlDbType.Text, gpuId)
            .With("from", NpgsqlDbType.TimestampTz, from).With("to", NpgsqlDbType.TimestampTz, to);

        var buckets = new List<UsageBucket>();
        await using var r = await cmd.ExecuteReaderAsync(cancellation);
        while (await r.ReadAsync(cancellation))
            buckets.Add(new UsageBucket(
                r.GetFieldValue<DateTime>(0), r.GetInt64(1), r.GetDouble(2), r.GetDouble(3), r.GetDouble(4), r.GetInt64(5),
                r.GetDouble(6), r.GetDouble(7), r.GetDouble(8), r.GetDouble(9)));
        return new UsageView(gpuId, from, to, width.TotalSeconds, buckets);
    }
}
