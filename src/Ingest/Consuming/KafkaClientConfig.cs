using System.Globalization;
using Confluent.Kafka;

namespace Pipeline.Ingest.Consuming;

/// <summary>librdkafka settings of the ingest's Kafka clients, in one place.</summary>
public static class KafkaClientConfig
{
    public static ConsumerConfig Consumer(IngestOptions options, string clientId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.ConsumerGroup,
            ClientId = clientId,
            // Where to start comes from ingest_offsets; Kafka's commits are a copy for lag tooling,
            // stored only after the database commit and sent by the auto-committer.
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
            AutoCommitIntervalMs = 1000,
            // A partition with no stored offset, or whose stored offset was evicted, starts at the oldest message.
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnablePartitionEof = false,
            // Throughput: fetch again as soon as the queue drains instead of backing off (1 ms default),
            // and keep a deep prefetch; the byte limit below bounds its memory.
            FetchQueueBackoffMs = 0,
            QueuedMinMessages = 200_000,
            QueuedMaxMessagesKbytes = 32 * 1024,
            StatisticsIntervalMs = 5000,
            ConsumeResultFields = "topic,timestamp",
        };
        if (options.GroupProtocol == GroupProtocol.Classic)
        {
            config.GroupProtocol = Confluent.Kafka.GroupProtocol.Classic;
            config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
            var sessionMs = (int)options.SessionTimeout.TotalMilliseconds;
            config.SessionTimeoutMs = sessionMs;
            config.HeartbeatIntervalMs = Math.Max(100, Math.Min(3000, sessionMs / 3));
        }
        else
        {
            // KIP-848: the broker assigns partitions (incrementally) and owns the session timeout.
            config.GroupProtocol = Confluent.Kafka.GroupProtocol.Consumer;
        }
        ApplyPassthrough(config, options);
        return config;
    }

    public static ProducerConfig DeadLetterProducer(IngestOptions options, string clientId)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = clientId + "-dead-letter",
            EnableIdempotence = true,
            LingerMs = 50,
            // A message rejected for its size must still fit; the broker's own limit decides.
            MessageMaxBytes = 64 * 1024 * 1024,
        };
        ApplyPassthrough(config, options);
        return config;
    }

    private static void ApplyPassthrough(ClientConfig config, IngestOptions options)
    {
        foreach (var (key, value) in options.KafkaProperties)
            config.Set(key, value);
    }

    public static string ClientId() =>
        string.Create(CultureInfo.InvariantCulture, $"pipeline-ingest-{Environment.MachineName}-{Environment.ProcessId}");
}
