using Npgsql;
using NpgsqlTypes;

namespace Pipeline.Ingest.Offsets;

/// <summary>A partition's stored position and the owner_epoch a claim left on it.</summary>
public readonly record struct ClaimedOffset(long Epoch, long NextOffset);

/// <summary>A partition's offset to store when a batch commits, valid only under the epoch it was read with.</summary>
public readonly record struct OffsetAdvance(string Topic, int Partition, long Epoch, long NextOffset);

/// <summary>
/// ingest_offsets: the source of truth for where each partition resumes (Kafka's committed offsets
/// are only a copy for lag tooling). Claiming a partition increments owner_epoch; a batch advances
/// next_offset inside its own transaction and only where owner_epoch still equals the epoch it
/// claimed, so a writer that lost its partition can never commit over the new owner.
/// </summary>
public sealed class OffsetStore(string connectionString, string consumerGroup, TimeSpan? stuckWriterGrace = null)
{
    /// <summary>Writer connections name themselves so; only these may be ended by a claim (see ClaimAsync).</summary>
    public const string WriterApplicationNamePrefix = "pipeline-ingest-writer-";

    // Far above any healthy batch commit: only a frozen (SIGSTOPped, swapped-out, partitioned) owner waits this long.
    private readonly TimeSpan _stuckWriterGrace = stuckWriterGrace ?? TimeSpan.FromSeconds(20);

    public string ConsumerGroup => consumerGroup;

    /// <summary>
    /// Takes ownership of one partition (a new row starts at offset 0, i.e. the earliest retained
    /// message). Its own short transaction: it waits for a previous owner's in-flight batch to
    /// finish, and then reads the offset that batch left. A previous owner that holds the row for
    /// longer than the grace period is frozen, not slow: PostgreSQL does not time out a COPY that
    /// waits for client data, so its writer session is ended; its batch rolls back and, should the
    /// process wake, is fenced by the new epoch.
    /// </summary>
    public async Task<ClaimedOffset> ClaimAsync(string topic, int partition, string ownerId, CancellationToken cancellation)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(cancellation);
        var claim = ClaimOnAsync(conn, topic, partition, ownerId, cancellation);
        while (true)
        {
            var waited = await Task.WhenAny(claim, Task.Delay(_stuckWriterGrace, CancellationToken.None));
            if (waited == claim || cancellation.IsCancellationRequested)
                return await claim;
            await EndStuckWritersBlockingAsync(conn.ProcessID, cancellation);
        }
    }

    private async Task<ClaimedOffset> ClaimOnAsync(NpgsqlConnection conn, string topic, int partition, string ownerId, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand(
            """
            INSERT INTO ingest_offsets AS o (consumer_group, topic, partition, next_offset, owner_epoch, owner_id)
            VALUES ($1, $2, $3, 0, 1, $4)
            ON CONFLICT (consumer_group, topic, partition) DO UPDATE
               SET owner_epoch = o.owner_epoch + 1, owner_id = EXCLUDED.owner_id, updated_at = now()
            RETURNING owner_epoch, next_offset
            """, conn) { CommandTimeout = 0 };
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumerGroup, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition, NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ownerId, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        return new ClaimedOffset(reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <returns>How many writer sessions were ended.</returns>
    private async Task<int> EndStuckWritersBlockingAsync(int claimingBackendPid, CancellationToken cancellation)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(cancellation);
        await using var cmd = new NpgsqlCommand(
            """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(a.pid))::int
              FROM pg_stat_activity AS a
             WHERE a.pid = ANY (pg_blocking_pids($1)) AND starts_with(a.application_name, $2)
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = claimingBackendPid, NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = WriterApplicationNamePrefix, NpgsqlDbType = NpgsqlDbType.Text });
        return (int)(await cmd.ExecuteScalarAsync(cancellation) ?? 0);
    }

    /// <summary>
    /// Advances next_offset for each partition, fenced by its epoch, inside the caller's transaction
    /// (run it first: the row locks it takes make a concurrent claim wait for this batch).
    /// </summary>
    /// <returns>The advances that did not apply because their epoch is no longer current: the caller must roll back.</returns>
    public async Task<List<OffsetAdvance>> AdvanceAsync(NpgsqlConnection conn, IReadOnlyList<OffsetAdvance> advances, CancellationToken cancellation)
    {
        var topics = new string[advances.Count];
        var partitions = new int[advances.Count];
        var epochs = new long[advances.Count];
        var nextOffsets = new long[advances.Count];
        for (var i = 0; i < advances.Count; i++)
            (topics[i], partitions[i], epochs[i], nextOffsets[i]) = advances[i];

        await using var cmd = new NpgsqlCommand(
            """
            UPDATE ingest_offsets AS o
               SET next_offset = v.next_offset, updated_at = now()
              FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS v(topic, partition, epoch, next_offset)
             WHERE o.consumer_group = $1 AND o.topic = v.topic AND o.partition = v.partition AND o.owner_epoch = v.epoch
            RETURNING o.topic, o.partition
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumerGroup, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = topics, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = partitions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = epochs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = nextOffsets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });

        var applied = new HashSet<(string, int)>();
        await using (var reader = await cmd.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
                applied.Add((reader.GetString(0), reader.GetInt32(1)));
        }
        var fenced = new List<OffsetAdvance>();
        foreach (var advance in advances)
            if (!applied.Contains((advance.Topic, advance.Partition))) fenced.Add(advance);
        return fenced;
    }

    /// <summary>The stored next offset of one partition, or null when it was never claimed.</summary>
    public async Task<long?> ReadNextOffsetAsync(string topic, int partition, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(cancellation);
        await using var cmd = new NpgsqlCommand(
            "SELECT next_offset FROM ingest_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3", conn);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumerGroup });
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        return await cmd.ExecuteScalarAsync(cancellation) is long next ? next : null;
    }
}
