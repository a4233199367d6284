using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;
using Pipeline.Ingest.Batching;
using Pipeline.Ingest.Consuming;
using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Quarantine;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>The pieces with logic of their own, without a broker or a database.</summary>
public sealed class PipelinePartsTests
{
    private static UsageSample Sample(string gpu, int second) =>
        new(DateTimeOffset.UnixEpoch.AddSeconds(second), gpu, "p", 1, 1, 2, 40, 100, null, null, null);

    [Fact]
    public void Removing_a_fenced_partitions_messages_keeps_the_rest_in_order_with_their_rows()
    {
        var kept = new PartitionClaim(new TopicPartition("usage", 0), MessageKind.Usage, 1, 0, 0);
        var fenced = new PartitionClaim(new TopicPartition("usage", 1), MessageKind.Usage, 1, 0, 0);
        var batch = new IngestBatch();
        void Add(PartitionClaim claim, long offset, params UsageSample[] rows)
        {
            batch.Usage.AddRange(rows);
            if (rows.Length == 0)
                batch.Quarantined.Add(new QuarantineEntry(MessageKind.Usage, claim.Partition.Topic, claim.Partition.Partition.Value, offset, null, null, [1, 2, 3], "empty_array", "x"));
            batch.Messages.Add(new MessageExtent(claim, offset, DateTime.UtcNow, batch.Usage.Count, batch.Heartbeats.Count, batch.Quarantined.Count));
        }
        Add(kept, 10, Sample("a", 1), Sample("a", 2));
        Add(fenced, 20, Sample("b", 1));
        Add(kept, 11);
        Add(fenced, 21);
        Add(kept, 12, Sample("a", 3));

        Assert.Equal(2, batch.RemoveMessagesOf(c => c == fenced));

        Assert.Equal(["a", "a", "a"], batch.Usage.Select(u => u.GpuId));
        Assert.Equal([10L, 11, 12], batch.Messages.Select(m => m.Offset));
        Assert.Equal([2, 2, 3], batch.Messages.Select(m => m.UsageEnd));
        Assert.Equal([0, 1, 1], batch.Messages.Select(m => m.QuarantineEnd));
        Assert.Equal(11L, batch.Quarantined.Single().Offset);
        Assert.Equal(3L, batch.QuarantinedBytes);
        Assert.Equal(new Dictionary<PartitionClaim, long> { [kept] = 13 }, batch.NextOffsets());
    }

    [Fact]
    public void Buffer_budget_refuses_past_its_message_or_byte_bound_but_always_admits_one_message()
    {
        var budget = new BufferBudget(maxMessages: 3, maxBytes: 1000);
        Assert.True(budget.TryReserve(5000));   // larger than the bound, but nothing else is buffered
        Assert.False(budget.TryReserve(1));
        budget.Release(5000);
        Assert.True(budget.TryReserve(400));
        Assert.True(budget.TryReserve(400));
        Assert.False(budget.TryReserve(400));   // bytes
        Assert.True(budget.TryReserve(100));
        Assert.False(budget.TryReserve(1));     // messages
        Assert.False(budget.IsBelowResumeMark);
        budget.Release(400);
        budget.Release(400);
        Assert.True(budget.IsBelowResumeMark);
    }

    [Fact]
    public void Consumer_lag_is_read_per_partition_from_librdkafka_statistics()
    {
        const string json = """
            {"name":"c#consumer-1","topics":{
              "usage":{"partitions":{
                "0":{"partition":0,"fetch_state":"active","consumer_lag":9,"consumer_lag_stored":4},
                "1":{"partition":1,"fetch_state":"active","consumer_lag":7,"consumer_lag_stored":-1},
                "2":{"partition":2,"fetch_state":"none","consumer_lag":-1,"consumer_lag_stored":-1},
                "-1":{"partition":-1,"fetch_state":"none","consumer_lag":-1,"consumer_lag_stored":-1}}}}}
            """;
        Assert.Equal([new PartitionLag("usage", 0, 4), new PartitionLag("usage", 1, 7)], ConsumerLagStatistics.Parse(json));
    }

    [Fact]
    public void Settings_have_documented_defaults_and_pass_librdkafka_properties_through()
    {
        var options = IngestOptions.From(Config(("Kafka:queued.min.messages", "5000"), ("Kafka:SessionTimeout", "6s")));
        Assert.Equal("pipeline-ingest", options.ConsumerGroup);
        Assert.Equal(("gpu.usage.v1", "gpu.heartbeat.v1"), (options.UsageTopic, options.HeartbeatTopic));
        Assert.Equal(9464, options.MetricsPort);
        Assert.Equal(GroupProtocol.Classic, options.GroupProtocol);
        Assert.Equal(TimeSpan.FromDays(30), options.Retention);
        Assert.Equal(TimeSpan.FromSeconds(6), options.SessionTimeout);
        Assert.Equal(new Dictionary<string, string> { ["queued.min.messages"] = "5000" }, options.KafkaProperties);
        Assert.Equal("5000", KafkaClientConfig.Consumer(options, "c").Get("queued.min.messages"));
        Assert.Equal(TimeSpan.FromDays(7), IngestOptions.From(Config(("Retention:Window", "7d"))).Retention);
    }

    [Theory]
    [InlineData("Ingest:Writers", "0")]
    [InlineData("Ingest:BatchMaxRows", "lots")]
    [InlineData("Ingest:BatchMaxAge", "soon")]
    [InlineData("Kafka:GroupProtocol", "gossip")]
    [InlineData("Ingest:HeartbeatTopic", "gpu.usage.v1")]
    [InlineData("Kafka:BootstrapServers", "")]
    public void A_bad_setting_is_refused_at_start_up_naming_its_key(string key, string value)
    {
        var ex = Assert.Throws<InvalidSettingException>(() => IngestOptions.From(Config((key, value))));
        Assert.Equal(key, ex.Key);
    }

    private static IConfiguration Config(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = "Host=localhost;Database=x",
            ["Kafka:BootstrapServers"] = "localhost:9092",
        };
        foreach (var (key, value) in settings) values[key] = value;
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
