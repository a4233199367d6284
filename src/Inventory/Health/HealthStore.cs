using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Inventory.Allocations;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Health;

/// <summary>
/// Health check and verification history of GPUs (newest first, keyset-paginated by (time, id)),
/// and the derived status of one GPU.
/// </summary>
public sealed class HealthStore(NpgsqlDataSource db, InventoryOptions options)
{
    public const string HistoryOrdering = "time:desc";

    public async Task<HealthCheckView> RecordCheckAsync(string gpuId, string checkName, bool passed, string detailsJson, DateTime? checkedAt, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO gpu_health_checks (gpu_id, checked_at, check_name, passed, details)
            VALUES (@gpu, COALESCE(@at, now()), @name, @passed, @details)
            RETURNING id, gpu_id, checked_at, check_name, passed, details::text
            """);
        cmd.With("gpu", NpgsqlDbType.Text, gpuId).With("at", NpgsqlDbType.TimestampTz, checkedAt)
            .With("name", NpgsqlDbType.Text, checkName).With("passed", NpgsqlDbType.Boolean, passed)
            .With("details", NpgsqlDbType.Jsonb, detailsJson);
        return await InsertOneAsync(cmd, gpuId, ReadCheck, cancellation);
    }

    public async Task<Page<HealthCheckView>> ListChecksAsync(string gpuId, int limit, PageCursor? after, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, gpu_id, checked_at, check_name, passed, details::text FROM gpu_health_checks
            WHERE gpu_id = @gpu AND (@after_time IS NULL OR (checked_at, id) < (@after_time, @after_id))
            ORDER BY checked_at DESC, id DESC LIMIT @limit
            """);
        return await ListAsync(cmd, gpuId, limit, after, ReadCheck, c => (c.CheckedAt, c.Id), cancellation);
    }

    public async Task<VerificationView> RecordVerificationAsync(string gpuId, string verifier, string result, string evidenceJson, DateTime? verifiedAt, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO gpu_verifications (gpu_id, verified_at, verifier, result, evidence)
            VALUES (@gpu, COALESCE(@at, now()), @verifier, @result, @evidence)
            RETURNING id, gpu_id, verified_at, verifier, result, evidence::text
            """);
        cmd.With("gpu", NpgsqlDbType.Text, gpuId).With("at", NpgsqlDbType.TimestampTz, verifiedAt)
            .With("verifier", NpgsqlDbType.Text, verifier).With("result", NpgsqlDbType.Text, result)
            .With("evidence", NpgsqlDbType.Jsonb, evidenceJson);
        return await InsertOneAsync(cmd, gpuId, ReadVerification, cancellation);
    }

    public async Task<Page<VerificationView>> ListVerificationsAsync(string gpuId, int limit, PageCursor? after, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, gpu_id, verified_at, verifier, result, evidence::text FROM gpu_verifications
            WHERE gpu_id = @gpu AND (@after_time IS NULL OR (verified_at, id) < (@after_time, @after_id))
            ORDER BY verified_at DESC, id DESC LIMIT @limit
            """);
        return await ListAsync(cmd, gpuId, limit, after, ReadVerification, v => (v.VerifiedAt, v.Id), cancellation);
    }

    public async Task<GpuStatusView> StatusAsync(string gpuId, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT g.id, {GpuStatusSql.Status}, g.status, {LeaseSql.ActiveOn("g.id")},
                   s.last_seen, s.reported_status, s.agent_version, s.driver_version, s.uptime_s,
                   ARRAY(SELECT latest.check_name
                         FROM (SELECT DISTINCT ON (hc.check_name) hc.check_name, hc.passed
                               FROM gpu_health_checks hc WHERE hc.gpu_id = g.id
                               ORDER BY hc.check_name, hc.checked_at DESC, hc.id DESC) latest
                         WHERE NOT latest.passed ORDER BY latest.check_name)
            FROM gpus g LEFT JOIN gpu_state s ON s.gpu_id = g.id
            WHERE g.id = @gpu
            """);
        cmd.With("gpu", NpgsqlDbType.Text, gpuId).With("offline_after", NpgsqlDbType.Interval, options.OfflineAfter);
        await using var r = await cmd.ExecuteReaderAsync(cancellation);
        if (!await r.ReadAsync(cancellation)) throw ProblemException.NotFound($"GPU '{gpuId}' does not exist.");
        return new GpuStatusView(
            GpuId: r.GetString(0),
            Status: r.GetString(1),
            AdminStatus: r.GetString(2),
            Allocated: r.GetBoolean(3),
            LastSeen: r.IsDBNull(4) ? null : r.GetFieldValue<DateTime>(4),
            ReportedStatus: r.IsDBNull(5) ? null : r.GetString(5),
            AgentVersion: r.IsDBNull(6) ? null : r.GetString(6),
            DriverVersion: r.IsDBNull(7) ? null : r.GetString(7),
            UptimeS: r.IsDBNull(8) ? null : r.GetInt64(8),
            FailingChecks: r.GetFieldValue<string[]>(9),
            OfflineAfterSeconds: options.OfflineAfter.TotalSeconds);
    }

    private static async Task<T> InsertOneAsync<T>(NpgsqlCommand cmd, string gpuId, Func<NpgsqlDataReader, T> read, CancellationToken cancellation)
    {
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(cancellation);
            await reader.ReadAsync(cancellation);
            return read(reader);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrors.ForeignKeyViolation)
        {
            throw ProblemException.NotFound($"GPU '{gpuId}' does not exist.");
        }
    }

    private async Task<Page<T>> ListAsync<T>(
        NpgsqlCommand cmd, string gpuId, int limit, PageCursor? after,
        Func<NpgsqlDataReader, T> read, Func<T, (DateTime Time, long Id)> key, CancellationToken cancellation)
    {
        await EnsureGpuExistsAsync(gpuId, cancellation);
        DateTime? afterTime = after?.TimeValue();
        long? afterId = after is null ? null
            : long.TryParse(after.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : throw PageCursor.Invalid();
        cmd.With("gpu", NpgsqlDbType.Text, gpuId).With("after_time", NpgsqlDbType.TimestampTz, afterTime)
            .With("after_id", NpgsqlDbType.Bigint, afterId).With("limit", NpgsqlDbType.Integer, limit + 1);
        var items = new List<T>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            if (items.Count == limit)
            {
                var (time, lastId) = key(items[^1]);
                return new Page<T>(items, new PageCursor(HistoryOrdering, PageCursor.FormatTime(time), lastId.ToString(CultureInfo.InvariantCulture)).Encode());
            }
            items.Add(read(reader));
        }
        return new Page<T>(items, null);
    }

    private async Task EnsureGpuExistsAsync(string gpuId, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("SELECT EXISTS (SELECT 1 FROM gpus WHERE id = @gpu)");
        cmd.With("gpu", NpgsqlDbType.Text, gpuId);
        if (await cmd.ExecuteScalarAsync(cancellation) is not true) throw ProblemException.NotFound($"GPU '{gpuId}' does not exist.");
    }

    private static HealthCheckView ReadCheck(NpgsqlDataReader r)
    {
        using var details = JsonDocument.Parse(r.GetString(5));
        return new HealthCheckView(r.GetInt64(0), r.GetString(1), r.GetFieldValue<DateTime>(2), r.GetString(3), r.GetBoolean(4), details.RootElement.Clone());
    }

    private static VerificationView ReadVerification(NpgsqlDataReader r)
    {
        using var evidence = JsonDocument.Parse(r.GetString(5));
        return new VerificationView(r.GetInt64(0), r.GetString(1), r.GetFieldValue<DateTime>(2), r.GetString(3), r.GetString(4), evidence.RootElement.Clone());
    }
}
