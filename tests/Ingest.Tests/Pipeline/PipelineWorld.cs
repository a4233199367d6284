using Pipeline.EmbeddedKafka;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>
/// One test's broker (in this process), topics and consumer group, plus its agents. The test owns
/// the database; topics get enough partitions that the mock broker never evicts test data.
/// </summary>
internal sealed class PipelineWorld : IDisposable
{
    public const int Partitions = 8;

    public PipelineWorld(string connectionString, SampleLoadShape? shape = null, int partitions = Partitions)
    {
        ConnectionString = connectionString;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        UsageTopic = "usage-" + suffix;
        HeartbeatTopic = "heartbeat-" + suffix;
        ConsumerGroup = "ingest-" + suffix;
        Broker = new MockKafkaCluster();
        Broker.CreateTopic(UsageTopic, partitions);
        Broker.CreateTopic(HeartbeatTopic, partitions);
        Load = new SampleLoad(Broker.BootstrapServers, UsageTopic, HeartbeatTopic, shape);
    }

    public string ConnectionString { get; }
    public MockKafkaCluster Broker { get; }
    public string UsageTopic { get; }
    public string HeartbeatTopic { get; }
    public string ConsumerGroup { get; }
    public SampleLoad Load { get; }

    public IngestOptions Options(Func<IngestOptions, IngestOptions>? adjust = null)
    {
        var options = InProcessIngest.OptionsFor(ConnectionString, Broker, UsageTopic, HeartbeatTopic, ConsumerGroup);
        return adjust is null ? options : adjust(options);
    }

    /// <summary>Waits until the database holds exactly what <see cref="Load"/> produced; fails with every difference.</summary>
    public async Task AssertExactLandingAsync(InProcessIngest? ingest = null)
    {
        var differences = await IngestAudit.WaitForExactLandingAsync(ConnectionString, Load.Expected, InProcessIngest.Patience,
            giveUpWhen: () => ingest?.Run.IsCompleted == true);
        Assert.True(differences.Count == 0,
            "the database does not hold exactly what was produced:\n" + IngestAudit.Describe(differences) + "\n" + ingest?.Log);
        Assert.Empty(Load.EvictedPartitions());
    }

    public void Dispose()
    {
        Load.Dispose();
        Broker.Dispose();
    }
}
