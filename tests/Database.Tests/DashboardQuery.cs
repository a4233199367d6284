using Npgsql;
using NpgsqlTypes;

namespace Pipeline.Database.Tests;

public sealed record UsageBucket(DateTimeOffset Bucket, string GpuId, long Samples, double AvgUtilization, float MaxTemperature, long MaxMemoryUsed);

/// <summary>
/// The shape of the dashboard's "GPUs over a time range" query, and a fixed data set to run it on.
/// The same SQL must give the same rows in TimescaleDB mode and in the partitioned mode.
/// </summary>
public static class DashboardQuery
{
    /// <summary>Two hours around midnight UTC, so the data spans two chunks or daily partitions.</summary>
    public static readonly DateTimeOffset From = new(2024, 3, 4, 23, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Until = From.AddHours(2);
    public static readonly string[] Gpus = ["gpu-dash-a", "gpu-dash-b", "gpu-dash-c"];

    public const string Sql = """
        SELECT time_bucket('5 minutes', time) AS bucket,
               gpu_id,
               count(*) AS samples,
               avg(utilization_pct) AS avg_utilization,
               max(temperature_c) AS max_temperature,
               max(memory_used_mib) AS max_memory_used
        FROM gpu_usage
        WHERE gpu_id = ANY($1) AND time >= $2 AND time < $3
        GROUP BY bucket, gpu_id
        ORDER BY bucket, gpu_id
        """;

    /// <summary>
    /// Inserts the samples with plain INSERTs (PGlite cannot COPY FROM STDIN). Values are whole or
    /// half numbers so sums are exact in floating point and both servers must agree to the bit.
    /// </summary>
    public static async Task InsertSamplesAsync(string connectionString)
    {
        var times = new List<DateTimeOffset>();
        var gpus = new List<string>();
        var utilization = new List<float>();
        var memory = new List<long>();
        var temperature = new List<float>();
        for (var g = 0; g < Gpus.Length; g++)
        {
            // Every 20 s, skipping some samples so buckets hold different counts.
            for (var i = 0; i < 360; i++)
            {
                if ((i + g) % 7 == 3) continue;
                times.Add(From.AddSeconds(20 * i + g));
                gpus.Add(Gpus[g]);
                utilization.Add((i * 37 + g * 11) % 101);
                memory.Add(1024L * ((i + g) % 80));
                temperature.Add(40 + (i * 13 % 60) / 2f);
            }
        }

        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
            SELECT t, g, 'prov-dash', u, m, 81920, c, 300
            FROM unnest($1, $2, $3, $4, $5) AS s(t, g, u, m, c)
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = times.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = gpus.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = utilization.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = memory.ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = temperature.ToArray() });
        Assert.Equal(times.Count, await cmd.ExecuteNonQueryAsync());
    }

    public static async Task<IReadOnlyList<UsageBucket>> RunAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(Sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = Gpus });
        cmd.Parameters.Add(new NpgsqlParameter { Value = From });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Until });
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<UsageBucket>();
        while (await reader.ReadAsync())
            rows.Add(new UsageBucket(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetInt64(2),
                reader.GetDouble(3), reader.GetFloat(4), reader.GetInt64(5)));
        return rows;
    }
}
