using Confluent.Kafka;
using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>The core promise: every accepted sample lands once, with its offsets, whatever the batch boundaries.</summary>
public sealed class ExactlyOnceTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Theory]
    [InlineData(2, GroupProtocol.Classic)]
    [InlineData(1, GroupProtocol.Consumer)]
    public async Task Every_accepted_sample_lands_exactly_once_while_produced_during_consumption(int writers, GroupProtocol protocol)
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await world.Load.ProduceAsync(300);
        await using var ingest = InProcessIngest.Start(world.Options(o => o with { Writers = writers, GroupProtocol = protocol }));
        await world.Load.ProduceAsync(1200, messagesPerSecond: 2000);

        await world.AssertExactLandingAsync(ingest);
        Assert.Equal(0, await ingest.StopAsync());
        Assert.Equal(world.Load.MessagesProduced, await ingest.MetricAsync("ingest_messages_consumed_total"));
        Assert.Equal(world.Load.UsageRowsProduced, await ingest.MetricAsync("ingest_samples_written_total", ("table", "gpu_usage")));
    }

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public async Task A_member_joining_mid_stream_takes_over_partitions_without_loss_or_duplicates(GroupProtocol protocol)
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await using var first = InProcessIngest.Start(world.Options(o => o with { GroupProtocol = protocol, BatchMaxRows = 500 }));
        await first.WaitForAssignmentAsync(2 * PipelineWorld.Partitions);
        var producing = world.Load.ProduceAsync(3000, messagesPerSecond: 500);
        await IngestAudit.WaitForUsageRowsAsync(world.ConnectionString, 3000, InProcessIngest.Patience);

        // The rebalance revokes partitions from the first member while its batches are in flight.
        await using var second = InProcessIngest.Start(world.Options(o => o with { GroupProtocol = protocol, BatchMaxRows = 500 }));
        await second.WaitForAssignmentAsync(1);
        await producing;
        await world.AssertExactLandingAsync(first);
        Assert.True(second.Service.AssignedPartitions > 0 && first.Service.AssignedPartitions < 2 * PipelineWorld.Partitions,
            $"partitions were not shared: {first.Service.AssignedPartitions} and {second.Service.AssignedPartitions}\n{first.Log}\n{second.Log}");
        Assert.Equal(0, await second.StopAsync());
        Assert.Equal(0, await first.StopAsync());
        await world.AssertExactLandingAsync();
    }

    [Fact]
    public async Task Restart_resumes_from_the_database_offsets_and_reads_nothing_twice()
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await world.Load.ProduceAsync(400);
        await using (var first = InProcessIngest.Start(world.Options()))
        {
            await world.AssertExactLandingAsync(first);
            Assert.Equal(0, await first.StopAsync());
        }

        var before = world.Load.MessagesProduced;
        await world.Load.ProduceAsync(400);
        await using var second = InProcessIngest.Start(world.Options());
        await world.AssertExactLandingAsync(second);

        // Exactly the messages produced after the first ingest stopped were read again: none twice.
        Assert.Equal(world.Load.MessagesProduced - before, await second.MetricAsync("ingest_messages_consumed_total"));
    }

    [Fact]
    public async Task Assignment_starts_at_the_offset_stored_in_the_database_not_at_kafkas_committed_offset()
    {
        using var world = new PipelineWorld(_database.ConnectionString, partitions: 1);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = world.Broker.BootstrapServers }).Build())
        {
            var start = DateTimeOffset.UtcNow.AddMinutes(-10);
            for (var i = 0; i < 10; i++)
                producer.Produce(new TopicPartition(world.UsageTopic, 0), new Message<string, string>
                {
                    Key = $"gpu-{i}",
                    Value = $$"""{"gpu_id":"gpu-{{i}}","provider_id":"p","ts":{{start.AddSeconds(i).ToUnixTimeMilliseconds()}},"utilization_pct":{{i}},"memory_used_mib":1,"memory_total_mib":2,"temperature_c":40,"power_w":100}""",
                });
            producer.Flush(TimeSpan.FromSeconds(10));
        }
        // Kafka says the group is at offset 2, the database says 6: the database wins.
        using (var committer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = world.Broker.BootstrapServers, GroupId = world.ConsumerGroup }).Build())
            committer.Commit([new TopicPartitionOffset(world.UsageTopic, 0, 2)]);
        await _database.ExecuteAsync(
            "INSERT INTO ingest_offsets (consumer_group, topic, partition, next_offset, owner_epoch) VALUES ($1, $2, 0, 6, 41)",
            world.ConsumerGroup, world.UsageTopic);

        await using var ingest = InProcessIngest.Start(world.Options());
        await WaitForNextOffsetAsync(world, 10, ingest);

        var gpus = new List<string>();
        await using (var conn = _database.Open())
        await using (var cmd = new NpgsqlCommand("SELECT gpu_id FROM gpu_usage ORDER BY gpu_id", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
            while (await reader.ReadAsync()) gpus.Add(reader.GetString(0));
        Assert.Equal(["gpu-6", "gpu-7", "gpu-8", "gpu-9"], gpus);
        Assert.Equal(42L, await _database.ScalarAsync<long>(
            "SELECT owner_epoch FROM ingest_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = 0", world.ConsumerGroup, world.UsageTopic));
    }

    [Fact]
    public async Task Agent_retries_are_stored_once_and_counted_as_skipped_duplicates()
    {
        // No built-in retries or bad input: this test makes its own duplicates.
        using var world = new PipelineWorld(_database.ConnectionString, new SampleLoadShape { AgentRetryEvery = 0, BadElementEvery = 0, MalformedEvery = 0, HeartbeatEvery = 0 }, partitions: 2);
        await world.Load.ProduceAsync(50);
        await using var ingest = InProcessIngest.Start(world.Options());
        await world.AssertExactLandingAsync(ingest);
        var stored = await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage");

        // The same 50 messages again (new offsets): every sample is already stored. One more
        // message repeats one sample twice inside itself.
        Assert.Equal(50, await CopyAllUsageMessagesAsync(world));
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = world.Broker.BootstrapServers }).Build())
        {
            var ts = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
            var sample = $$"""{"gpu_id":"gpu-twice","provider_id":"p","ts":{{ts}},"utilization_pct":1,"memory_used_mib":1,"memory_total_mib":2,"temperature_c":40,"power_w":100}""";
            producer.Produce(world.UsageTopic, new Message<string, string> { Key = "gpu-twice", Value = $"[{sample},{sample}]" });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        var expectedSkipped = world.Load.UsageRowsProduced + 1;
        await WaitForMetricAsync(ingest, "ingest_duplicates_skipped_total", expectedSkipped);
        Assert.Equal(stored + 1, await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage"));
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage WHERE gpu_id = 'gpu-twice'"));
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM quarantine"));
        Assert.Equal(expectedSkipped, await ingest.MetricAsync("ingest_duplicates_skipped_total", ("table", "gpu_usage")));
    }

    /// <summary>Re-produces every usage message so far, as agents retrying after a lost acknowledgement would.</summary>
    private static async Task<int> CopyAllUsageMessagesAsync(PipelineWorld world)
    {
        var messages = new List<Message<string, byte[]>>();
        using (var reader = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = world.Broker.BootstrapServers, GroupId = "copy-" + world.ConsumerGroup }).Build())
        {
            var partitions = Enumerable.Range(0, 2).Select(p => new TopicPartition(world.UsageTopic, p)).ToList();
            var ends = partitions.ToDictionary(p => p.Partition.Value, p => reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
            reader.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
            var remaining = ends.Values.Sum();
            while (remaining > 0)
            {
                var r = reader.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException("could not read back the usage topic");
                messages.Add(r.Message);
                remaining--;
            }
        }
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = world.Broker.BootstrapServers }).Build();
        foreach (var m in messages) producer.Produce(world.UsageTopic, new Message<string, byte[]> { Key = m.Key, Value = m.Value });
        producer.Flush(TimeSpan.FromSeconds(10));
        await Task.CompletedTask;
        return messages.Count;
    }

    private static async Task WaitForNextOffsetAsync(PipelineWorld world, long next, InProcessIngest ingest)
    {
        var deadline = DateTime.UtcNow + InProcessIngest.Patience;
        while (true)
        {
            var stored = await IngestAudit.StoredOffsetsAsync(world.ConnectionString, world.UsageTopic, world.HeartbeatTopic);
            if (stored.GetValueOrDefault((world.UsageTopic, 0)) >= next) return;
            if (DateTime.UtcNow > deadline || ingest.Run.IsCompleted) Assert.Fail($"next_offset never reached {next}\n{ingest.Log}");
            await Task.Delay(50);
        }
    }

    internal static async Task WaitForMetricAsync(InProcessIngest ingest, string name, double atLeast, params (string, string)[] labels)
    {
        var deadline = DateTime.UtcNow + InProcessIngest.Patience;
        while (await ingest.MetricAsync(name, labels) < atLeast)
        {
            if (DateTime.UtcNow > deadline || ingest.Run.IsCompleted)
                Assert.Fail($"{name} stayed at {await ingest.MetricAsync(name, labels)}, expected {atLeast}\n{ingest.Log}");
            await Task.Delay(50);
        }
    }
}
