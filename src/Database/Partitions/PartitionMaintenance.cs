using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Pipeline.Database.Partitions;

public sealed record PartitionReport(string StorageMode, int Created, int Dropped);

/// <summary>
/// Keeps the partitioned mode's window of daily partitions moving: creates the days ahead and
/// drops the days older than the retention window. Under TimescaleDB it only drops old chunks
/// (drop_chunks), since chunks are created on demand.
/// </summary>
public sealed class PartitionMaintenance(string connectionString, ILogger? logger = null)
{
    public static readonly string[] TimeSeriesTables = ["gpu_usage", "gpu_heartbeat"];
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    public async Task<PartitionReport> RunAsync(TimeSpan retention, int daysAhead, DateTimeOffset now, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(cancellation);
        var mode = await StorageModeAsync(conn, cancellation);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var oldestKept = DateOnly.FromDateTime(now.UtcDateTime - retention);
        int created = 0, dropped = 0;
        foreach (var table in TimeSeriesTables)
        {
            if (mode == "partitioned")
            {
                created += await ScalarIntAsync(conn, "SELECT ensure_daily_partitions($1::regclass, $2, $3)", cancellation, table, oldestKept, today.AddDays(daysAhead));
                dropped += await ScalarIntAsync(conn, "SELECT drop_daily_partitions_before($1::regclass, $2)", cancellation, table, oldestKept);
            }
            else
            {
                dropped += await ScalarIntAsync(conn, "SELECT count(*)::int FROM drop_chunks($1::regclass, older_than => $2::timestamptz)", cancellation,
                    table, new DateTimeOffset(oldestKept.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            }
        }
        _log.LogInformation("Partition maintenance ({Mode}): {Created} created, {Dropped} dropped, keeping {OldestKept} onwards",
            mode, created, dropped, oldestKept);
        return new PartitionReport(mode, created, dropped);
    }

    public static async Task<string> StorageModeAsync(NpgsqlConnection conn, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand("SELECT mode FROM storage_mode", conn);
        return (string?)await cmd.ExecuteScalarAsync(cancellation)
            ?? throw new InvalidOperationException("storage_mode is empty: run 'pipeline migrate up' first");
    }

    private static async Task<int> ScalarIntAsync(NpgsqlConnection conn, string sql, CancellationToken cancellation, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(cancellation) ?? 0);
    }
}
