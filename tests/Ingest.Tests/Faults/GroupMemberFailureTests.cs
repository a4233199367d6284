using Npgsql;
using Pipeline.TestSupport;
using Xunit.Abstractions;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>Two ingest processes share one consumer group; one of them fails mid-stream.</summary>
[Collection(IngestFaultsCollection.Name)]
public sealed class GroupMemberFailureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    /// <summary>Both group protocols: classic (any broker) and KIP-848 (Kafka 4+, the embedded default).</summary>
    [Theory]
    [InlineData("classic")]
    [InlineData("consumer")]
    public async Task Member_killed_mid_stream_survivor_takes_its_partitions_and_nothing_is_lost_or_duplicated(string groupProtocol)
    {
        await using var rig = new IngestRig(output, _database.ConnectionString);
        var doomed = rig.StartIngest($"--Kafka:GroupProtocol={groupProtocol}");
        var survivor = rig.StartIngest($"--Kafka:GroupProtocol={groupProtocol}");
        // Both members own partitions before the stream starts, so the kill lands mid-stream.
        await WaitForOwnersAsync(rig, atLeast: 2);
        await rig.Load.ProduceAsync(300);
        var producing = rig.Load.ProduceAsync(2000, messagesPerSecond: 250);

        var reached = await rig.WaitForUsageRowsAsync(rig.Load.UsageRowsProduced / 3);
        await doomed.KillAsync();
        rig.Note($"kill -9 of one member at {reached} usage rows");

        await producing;
        await rig.AssertExactLandingAsync();
        Assert.False(survivor.HasExited, survivor.OutputTail());
        Assert.Equal(1L, await OwnerCountAsync(rig));
    }

    [Fact]
    public async Task Member_frozen_past_its_session_cannot_commit_over_the_new_owner_after_it_thaws()
    {
        await using var rig = new IngestRig(output, _database.ConnectionString);
        var frozen = rig.StartIngest();
        var other = rig.StartIngest();
        await WaitForOwnersAsync(rig, atLeast: 2);
        await rig.Load.ProduceAsync(300);
        var producing = rig.Load.ProduceAsync(2000, messagesPerSecond: 250);

        var reached = await rig.WaitForUsageRowsAsync(rig.Load.UsageRowsProduced / 3);
        // SIGSTOP mid-stream: batches read under its claims are still in its memory. The group
        // evicts it after the session timeout and the other member claims its partitions
        // (a new owner_epoch). When it thaws, those stale batches must be fenced, not committed.
        frozen.Pause();
        rig.Note($"SIGSTOP of one member at {reached} usage rows");
        var epochsBefore = await EpochSumAsync(rig);
        await WaitUntilAsync(rig, async () => await EpochSumAsync(rig) > epochsBefore + 4, "the other member claims the frozen member's partitions");
        var afterTakeover = await IngestAudit.UsageRowsAsync(rig.ConnectionString);
        await rig.WaitForUsageRowsAsync(afterTakeover + 2000);
        frozen.Resume();
        rig.Note("SIGCONT of the frozen member");

        await producing;
        await rig.AssertExactLandingAsync();
        Assert.False(other.HasExited, other.OutputTail());
    }

    private static async Task WaitForOwnersAsync(IngestRig rig, int atLeast) =>
        await WaitUntilAsync(rig, async () => await OwnerCountAsync(rig) >= atLeast, $"{atLeast} members own partitions");

    private static async Task WaitUntilAsync(IngestRig rig, Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + IngestRig.Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"never happened: {what}\n{rig.Diagnostics()}");
            await Task.Delay(100);
        }
        rig.Note(what);
    }

    private static async Task<long> OwnerCountAsync(IngestRig rig) =>
        await ScalarAsync(rig, "SELECT count(DISTINCT owner_id) FROM ingest_offsets WHERE consumer_group = $1");

    private static async Task<long> EpochSumAsync(IngestRig rig) =>
        await ScalarAsync(rig, "SELECT coalesce(sum(owner_epoch), 0)::bigint FROM ingest_offsets WHERE consumer_group = $1");

    private static async Task<long> ScalarAsync(IngestRig rig, string sql)
    {
        await using var conn = new NpgsqlConnection(rig.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = rig.ConsumerGroup });
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
