using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.EmbeddedKafka.Tests;

/// <summary>RetentionWatch against a real in-process mock cluster; each test owns its cluster and topics.</summary>
public class RetentionWatchTests
{
    private static RetentionWatchOptions Options(params string[] groups) =>
        new(CheckInterval: TimeSpan.FromSeconds(1), SummaryInterval: TimeSpan.FromMinutes(1), WarnPercent: 80, WatchGroups: groups);

    [Fact]
    public void Backlog_counts_the_retained_messages_after_each_groups_committed_offset()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("usage", 2);
        Produce(cluster, "usage", partition: 1, count: 50, valueBytes: 100);
        CommitWithoutJoining(cluster, "ingest", new TopicPartitionOffset("usage", 1, 20));
        var log = new CapturedLog();
        using var watch = new RetentionWatch(cluster.BootstrapServers, [new TopicSpec("usage", 2)], Options("ingest", "never-committed"), log);

        var report = watch.Check();

        var ingest = report.Single(s => s is { Group: "ingest", Partition: 1 });
        Assert.Equal((0L, 50L, (long?)20L, 30L), (ingest.Low, ingest.High, ingest.Committed, ingest.BacklogMessages));
        var idle = report.Single(s => s is { Group: "never-committed", Partition: 1 });
        Assert.Equal(((long?)null, 50L), (idle.Committed, idle.BacklogMessages));
        // Sampled key + value (about 106 bytes) plus the worst-case framing of 73 bytes.
        Assert.InRange(ingest.BytesPerMessage, 100 + 73, 120 + 73);
        Assert.False(ingest.SizeMeasured);
        Assert.Equal(0, report.Single(s => s is { Group: "ingest", Partition: 0 }).BacklogMessages);
        Assert.Empty(log.At(LogLevel.Warning));
        Assert.Empty(log.At(LogLevel.Error));
    }

    [Fact]
    public void Eviction_past_the_committed_offset_is_reported_once_as_data_loss_naming_the_range()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("usage", 1);
        CommitWithoutJoining(cluster, "ingest", new TopicPartitionOffset("usage", 0, 10));
        // About 7 MB into one partition: more than the 5 MiB the mock keeps.
        Produce(cluster, "usage", partition: 0, count: 7000, valueBytes: 1000);
        var log = new CapturedLog();
        using var watch = new RetentionWatch(cluster.BootstrapServers, [new TopicSpec("usage", 1)], Options("ingest"), log);

        var first = watch.Check().Single();

        Assert.True(first.Low > 10, $"expected eviction past offset 10, low watermark is {first.Low}");
        Assert.True(first.EvictedUnread);
        Assert.True(first.SizeMeasured);
        var error = Assert.Single(log.At(LogLevel.Error));
        Assert.Contains($"DATA LOST: usage partition 0 offsets 10..{first.Low - 1} were evicted", error);
        Assert.Contains("consumer group ingest", error);
        Assert.Contains(log.At(LogLevel.Warning), w => w.Contains("RETENTION CEILING NEAR: usage partition 0:", StringComparison.Ordinal));

        var second = watch.Check().Single();

        Assert.Equal(first.Low, second.Low);
        Assert.Single(log.At(LogLevel.Error));
    }

    [Theory]
    [InlineData("classic")]
    [InlineData("consumer")]
    public void Reading_committed_offsets_does_not_rebalance_a_running_group(string groupProtocol)
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("usage", 4);
        for (var p = 0; p < 4; p++) Produce(cluster, "usage", p, count: 5, valueBytes: 10);
        var config = new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "ingest",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        };
        config.Set("group.protocol", groupProtocol);
        if (groupProtocol == "classic") config.SessionTimeoutMs = 6000;
        var assignedEvents = 0;
        var revokedOrLost = 0;
        using var member = new ConsumerBuilder<Ignore, Ignore>(config)
            .SetPartitionsAssignedHandler((_, _) => assignedEvents++)
            .SetPartitionsRevokedHandler((_, _) => revokedOrLost++)
            .SetPartitionsLostHandler((_, _) => revokedOrLost++)
            .Build();
        member.Subscribe("usage");
        var clock = Stopwatch.StartNew();
        while (member.Assignment.Count < 4 && clock.Elapsed < TimeSpan.FromSeconds(60)) member.Consume(TimeSpan.FromMilliseconds(100));
        Assert.Equal(4, member.Assignment.Count);
        member.Commit([new TopicPartitionOffset("usage", 2, 3)]);
        var assignedBefore = assignedEvents;
        var revokedBefore = revokedOrLost;
        using var watch = new RetentionWatch(cluster.BootstrapServers, [new TopicSpec("usage", 4)], Options("ingest"), new CapturedLog());

        IReadOnlyList<PartitionRetention> report = [];
        for (var round = 0; round < 5; round++)
        {
            report = watch.Check();
            for (var i = 0; i < 10; i++) member.Consume(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(3, report.Single(s => s.Partition == 2).Committed);
        Assert.Equal(assignedBefore, assignedEvents);
        Assert.Equal(revokedBefore, revokedOrLost);
        Assert.Equal(4, member.Assignment.Count);
    }

    private static void Produce(MockKafkaCluster cluster, string topic, int partition, int count, int valueBytes)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var value = new byte[valueBytes];
        for (var i = 0; i < count; i++)
            producer.Produce(new TopicPartition(topic, partition), new Message<string, byte[]> { Key = $"gpu-{i % 100}", Value = value });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>Commits like a simple (assign-only) consumer would: an OffsetCommit without group membership.</summary>
    private static void CommitWithoutJoining(MockKafkaCluster cluster, string group, TopicPartitionOffset offset)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = group }).Build();
        consumer.Commit([offset]);
        consumer.Close();
    }
}
