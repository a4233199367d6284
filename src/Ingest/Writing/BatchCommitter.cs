using Npgsql;
using Pipeline.Ingest.Batching;
using Pipeline.Ingest.Offsets;
using Pipeline.Ingest.Quarantine;

namespace Pipeline.Ingest.Writing;

/// <summary>What one attempt at committing a batch did.</summary>
public sealed record CommitResult(
    IReadOnlyList<OffsetAdvance> Fenced,
    TableWriteResult Usage,
    TableWriteResult Heartbeats,
    int Quarantined)
{
    public bool WasFenced => Fenced.Count > 0;
}

/// <summary>
/// One batch, one transaction, on the lane's own connection:
/// 1. advance next_offset of every covered partition, fenced by owner_epoch (first, so a
///    concurrent claim waits for this transaction and then sees its offsets);
/// 2. COPY usage and heartbeat rows; 3. upsert gpu_state; 4. insert quarantine rows; commit.
/// If any partition is fenced, nothing is written and the caller drops that partition's rows.
/// </summary>
public sealed class BatchCommitter(string connectionString, OffsetStore offsets) : IAsyncDisposable
{
    private readonly UsageBatchWriter _usage = new();
    private readonly HeartbeatBatchWriter _heartbeats = new();
    private readonly GpuStateWriter _gpuState = new();
    private NpgsqlConnection? _conn;

    public async Task<CommitResult> CommitAsync(IngestBatch batch, WriteMode mode, CancellationToken cancellation)
    {
        var conn = await OpenAsync(cancellation);
        await using var tx = await conn.BeginTransactionAsync(cancellation);

        var advances = batch.NextOffsets()
            .Select(kv => new OffsetAdvance(kv.Key.Partition.Topic, kv.Key.Partition.Partition.Value, kv.Key.Epoch, kv.Value))
            .ToList();
        var fenced = await offsets.AdvanceAsync(conn, advances, cancellation);
        if (fenced.Count > 0)
        {
            await tx.RollbackAsync(cancellation);
            return new CommitResult(fenced, default, default, 0);
        }

        var usage = await _usage.WriteAsync(conn, batch.Usage, mode, cancellation);
        var heartbeats = await _heartbeats.WriteAsync(conn, batch.Heartbeats, mode, cancellation);
        await _gpuState.UpsertAsync(conn, batch.Heartbeats, cancellation);
        var quarantined = await QuarantineWriter.InsertAsync(conn, batch.Quarantined, cancellation);
        await tx.CommitAsync(cancellation);
        return new CommitResult([], usage, heartbeats, quarantined);
    }

    /// <summary>Drops the connection after a failure that may have broken it; the next attempt opens a fresh one.</summary>
    public async Task ResetAsync()
    {
        if (_conn is null) return;
        var broken = _conn;
        _conn = null;
        try { await broken.DisposeAsync(); } catch (Exception) { /* already broken; nothing to clean up */ }
    }

    public ValueTask DisposeAsync() => new(ResetAsync());

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellation)
    {
        if (_conn is { State: System.Data.ConnectionState.Open }) return _conn;
        await ResetAsync();
        var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(cancellation);
        _conn = conn;
        return conn;
    }

    /// <summary>
    /// The writer connection's settings: a frozen ingest process must not hold partition rows
    /// locked forever (a claim waits on them), so PostgreSQL ends transactions idle for a minute.
    /// </summary>
    public static string WriterConnectionString(string connectionString, int lane)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = $"{OffsetStore.WriterApplicationNamePrefix}{lane}",
        };
        const string idleLimit = "-c idle_in_transaction_session_timeout=60000";
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? idleLimit : builder.Options + " " + idleLimit;
        return builder.ConnectionString;
    }
}
