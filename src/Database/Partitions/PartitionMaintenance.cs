using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Pipeline.Database.Partitions;

public sealed record PartitionReport(string StorageMode, int Created, int Dropped);

/// <summary>
/// Keeps the partitioned mode's window of daily partitions moving: creates the days ahead and
/// drops the days older than the retention window. Under TimescaleDB chunks are created on demand,
/// so it drops old chunks (drop_chunks) and points the in-database retention job (migration 0005)
/// at the same window, so the configured retention is the only one.
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
                await AlignRetentionPolicyAsync(conn, table, retention, cancellation);
                dropped += await ScalarIntAsync(conn, "SELECT count(*)::int FROM drop_chunks($1::regclass, older_than => $2::timestamptz)", cancellation,
                    table, new DateTimeOffset(oldestKept.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            }
        }
        _log.LogInformation("Partition maintenance ({Mode}): {Created} created, {Dropped} dropped, keeping {OldestKept} onwards",
            mode, created, dropped, oldestKept);
        return new PartitionReport(mode, created, dropped);
    }

    private async Task AlignRetentionPolicyAsync(NpgsqlConnection conn, string table, TimeSpan retention, CancellationToken cancellation)
    {
        const string retentionJobs = """
            SELECT count(*)::int FROM timescaledb_information.jobs
            WHERE proc_name = 'policy_retention' AND hypertable_schema = current_schema() AND hypertable_name = $1
            """;
        var jobs = await ScalarIntAsync(conn, retentionJobs, cancellation, table);
        // No job: the schema predates 0005 or an operator removed it on purpose; drop_chunks still applies the window.
        if (jobs == 0) return;
        var matching = await ScalarIntAsync(conn, retentionJobs + " AND (config ->> 'drop_after')::interval = $2", cancellation, table, retention);
        if (matching == jobs) return;

        // if_not_exists: a second maintainer (the ingest's hourly run, this command) racing here is not an error.
        await using var tx = await conn.BeginTransactionAsync(cancellation);
        await using (var remove = new NpgsqlCommand("SELECT remove_retention_policy($1::regclass, if_exists => true)", conn, tx))
        {
            remove.Parameters.Add(new NpgsqlParameter { Value = table });
            await remove.ExecuteNonQueryAsync(cancellation);
        }
        await using (var add = new NpgsqlCommand("SELECT add_retention_policy($1::regclass, drop_after => $2::interval, if_not_exists => true)", conn, tx))
        {
            add.Parameters.Add(new NpgsqlParameter { Value = table });
            add.Parameters.Add(new NpgsqlParameter { Value = retention });
            await add.ExecuteNonQueryAsync(cancellation);
        }
        await tx.CommitAsync(cancellation);
        _log.LogInformation("Retention job of {Table} now drops chunks older than {Retention}", table, retention);
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
