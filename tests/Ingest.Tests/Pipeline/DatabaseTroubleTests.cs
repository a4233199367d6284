using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>A database that stalls or drops connections: consumption pauses within the buffer bound, nothing is lost or doubled.</summary>
public sealed class DatabaseTroubleTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Consumption_pauses_within_the_buffer_bound_while_writes_are_blocked_and_resumes_without_loss()
    {
        const int capacity = 64;
        const long maxBytes = 1024 * 1024;
        using var world = new PipelineWorld(_database.ConnectionString);
        await world.Load.ProduceAsync(100);
        await using var ingest = InProcessIngest.Start(world.Options(o => o with { ChannelCapacity = capacity, ChannelMaxBytes = maxBytes, BatchMaxRows = 400 }));
        await world.AssertExactLandingAsync(ingest);

        await using (var blocker = _database.Open())
        {
            await using (var tx = await blocker.BeginTransactionAsync())
            {
                await using (var lockTable = new NpgsqlCommand("LOCK TABLE gpu_usage IN ACCESS EXCLUSIVE MODE", blocker, tx))
                    await lockTable.ExecuteNonQueryAsync();
                await world.Load.ProduceAsync(1500);

                await ExactlyOnceTests.WaitForMetricAsync(ingest, "ingest_consumer_paused", 1);
                for (var i = 0; i < 10; i++)
                {
                    Assert.InRange(await ingest.MetricAsync("ingest_channel_depth_messages"), 0, capacity);
                    Assert.InRange(await ingest.MetricAsync("ingest_channel_depth_bytes"), 0, maxBytes + 64 * 1024);
                    await Task.Delay(100);
                }
                // Most of the stream is still in Kafka, not in this process.
                Assert.True(await ingest.MetricAsync("ingest_messages_consumed_total") < world.Load.MessagesProduced,
                    $"consumed everything while the database was blocked\n{ingest.Log}");
                await tx.RollbackAsync();
            }
        }

        await world.AssertExactLandingAsync(ingest);
        Assert.Equal(0, await ingest.MetricAsync("ingest_consumer_paused"));
    }

    [Fact]
    public async Task Writer_connections_killed_mid_stream_are_retried_without_loss_or_duplicates()
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await using var ingest = InProcessIngest.Start(world.Options(o => o with { BatchMaxRows = 500 }));
        await ingest.WaitForAssignmentAsync(2 * PipelineWorld.Partitions);
        var producing = world.Load.ProduceAsync(1500, messagesPerSecond: 600);

        var killed = 0;
        while (!producing.IsCompleted || killed == 0)
        {
            await Task.Delay(250);
            killed += await _database.ScalarAsync<int>(
                "SELECT count(*)::int FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'pipeline-ingest-writer-%') k");
        }
        await producing;

        await world.AssertExactLandingAsync(ingest);
        Assert.True(await ingest.MetricAsync("ingest_retries_total", ("operation", "write_batch")) >= 1, ingest.Log);
        Assert.True(await ingest.MetricAsync("ingest_database_errors_total", ("operation", "write_batch")) >= 1, ingest.Log);
    }
}
