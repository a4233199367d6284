using Pipeline.Ingest.Offsets;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>owner_epoch fencing: a writer that lost its partition cannot commit over the new owner.</summary>
public sealed class FencingTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task A_second_claim_fences_the_first_owner_out_of_advancing_the_offset()
    {
        var store = new OffsetStore(_database.ConnectionString, "group-a");
        var first = await store.ClaimAsync("usage", 3, "owner-1", CancellationToken.None);
        var second = await store.ClaimAsync("usage", 3, "owner-2", CancellationToken.None);
        Assert.Equal(new ClaimedOffset(1, 0), first);
        Assert.Equal(new ClaimedOffset(2, 0), second);

        await using (var conn = _database.Open())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            var fenced = await store.AdvanceAsync(conn, [new OffsetAdvance("usage", 3, first.Epoch, 500)], CancellationToken.None);
            Assert.Equal([new OffsetAdvance("usage", 3, 1, 500)], fenced);
            await tx.RollbackAsync();
        }
        Assert.Equal(0L, await store.ReadNextOffsetAsync("usage", 3));

        await using (var conn = _database.Open())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            Assert.Empty(await store.AdvanceAsync(conn, [new OffsetAdvance("usage", 3, second.Epoch, 500)], CancellationToken.None));
            await tx.CommitAsync();
        }
        Assert.Equal(500L, await store.ReadNextOffsetAsync("usage", 3));
        Assert.Equal(new ClaimedOffset(3, 500), await store.ClaimAsync("usage", 3, "owner-3", CancellationToken.None));
    }

    [Fact]
    public async Task A_claim_waits_for_the_current_owners_open_batch_and_then_reads_the_offset_it_committed()
    {
        var store = new OffsetStore(_database.ConnectionString, "group-b");
        var owner = await store.ClaimAsync("usage", 0, "owner-1", CancellationToken.None);

        await using var conn = _database.Open();
        await using var tx = await conn.BeginTransactionAsync();
        Assert.Empty(await store.AdvanceAsync(conn, [new OffsetAdvance("usage", 0, owner.Epoch, 42)], CancellationToken.None));

        // The batch holds the partition's row: the takeover cannot read a stale offset meanwhile.
        var takeover = store.ClaimAsync("usage", 0, "owner-2", CancellationToken.None);
        await Task.Delay(300);
        Assert.False(takeover.IsCompleted);
        await tx.CommitAsync();
        Assert.Equal(new ClaimedOffset(2, 42), await takeover.WaitAsync(InProcessIngest.Patience));
    }

    [Fact]
    public async Task A_claim_ends_a_frozen_writer_that_holds_the_partition_past_the_grace_period()
    {
        var store = new OffsetStore(_database.ConnectionString, "group-c", stuckWriterGrace: TimeSpan.FromMilliseconds(300));
        var owner = await store.ClaimAsync("usage", 1, "owner-1", CancellationToken.None);

        // A writer of the previous owner advanced the offset and then froze inside its transaction.
        var frozenConnection = new Npgsql.NpgsqlConnectionStringBuilder(_database.ConnectionString)
        {
            ApplicationName = OffsetStore.WriterApplicationNamePrefix + "0",
            Pooling = false,
        }.ConnectionString;
        await using var frozen = new Npgsql.NpgsqlConnection(frozenConnection);
        await frozen.OpenAsync();
        var tx = await frozen.BeginTransactionAsync();
        Assert.Empty(await store.AdvanceAsync(frozen, [new OffsetAdvance("usage", 1, owner.Epoch, 77)], CancellationToken.None));

        var takeover = await store.ClaimAsync("usage", 1, "owner-2", CancellationToken.None).WaitAsync(InProcessIngest.Patience);

        Assert.Equal(new ClaimedOffset(2, 0), takeover);
        await Assert.ThrowsAnyAsync<Exception>(() => tx.CommitAsync());
        Assert.Equal(0L, await store.ReadNextOffsetAsync("usage", 1));
    }

    [Fact]
    public async Task A_claim_never_ends_a_session_that_is_not_an_ingest_writer()
    {
        var store = new OffsetStore(_database.ConnectionString, "group-d", stuckWriterGrace: TimeSpan.FromMilliseconds(100));
        var owner = await store.ClaimAsync("usage", 2, "owner-1", CancellationToken.None);

        await using var other = _database.Open();
        await using var tx = await other.BeginTransactionAsync();
        Assert.Empty(await store.AdvanceAsync(other, [new OffsetAdvance("usage", 2, owner.Epoch, 9)], CancellationToken.None));

        var takeover = store.ClaimAsync("usage", 2, "owner-2", CancellationToken.None);
        await Task.Delay(1000);
        Assert.False(takeover.IsCompleted);
        await tx.CommitAsync();
        Assert.Equal(new ClaimedOffset(2, 9), await takeover.WaitAsync(InProcessIngest.Patience));
    }

    [Fact]
    public async Task A_running_ingest_whose_partitions_were_claimed_elsewhere_commits_nothing_more()
    {
        using var world = new PipelineWorld(_database.ConnectionString, new SampleLoadShape { HeartbeatEvery = 0 }, partitions: 4);
        await world.Load.ProduceAsync(100);
        await using var ingest = InProcessIngest.Start(world.Options());
        await world.AssertExactLandingAsync(ingest);
        var rowsBefore = await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage");
        var offsetsBefore = await IngestAudit.StoredOffsetsAsync(world.ConnectionString, world.UsageTopic, world.HeartbeatTopic);

        // Another owner takes every partition (as a new group member would after a rebalance this process missed).
        await _database.ExecuteAsync("UPDATE ingest_offsets SET owner_epoch = owner_epoch + 1, owner_id = 'someone-else' WHERE consumer_group = $1", world.ConsumerGroup);
        await world.Load.ProduceAsync(100);
        var touched = world.Load.Expected.EndOffsets.Count(e => e.Value > offsetsBefore.GetValueOrDefault(e.Key));

        await ExactlyOnceTests.WaitForMetricAsync(ingest, "ingest_fenced_partitions_total", touched);
        Assert.Equal(rowsBefore, await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage"));
        Assert.Equal(offsetsBefore, await IngestAudit.StoredOffsetsAsync(world.ConnectionString, world.UsageTopic, world.HeartbeatTopic));
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM ingest_offsets WHERE owner_id <> 'someone-else' AND consumer_group = $1", world.ConsumerGroup));
    }
}
