using Pipeline.EmbeddedKafka;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>The yardstick of the fault tests must itself be right: what it expects is what it sent.</summary>
public sealed class SampleLoadTests
{
    [Fact]
    public async Task Expected_end_offsets_match_the_broker_and_an_empty_database_shows_everything_missing()
    {
        using var broker = new MockKafkaCluster();
        broker.CreateTopic("load-usage", 8);
        broker.CreateTopic("load-heartbeat", 8);
        using var load = new SampleLoad(broker.BootstrapServers, "load-usage", "load-heartbeat");
        await load.ProduceAsync(300, messagesPerSecond: 3000);

        var expected = load.Expected;
        // 300 messages of 20 samples, minus one rejected element in every 60th message.
        Assert.Equal(300 * 20 - 5, expected.Usage.Rows);
        Assert.Equal(60, expected.HeartbeatRows);
        // 5 bad elements and 2 truncated messages (the 7 retries resend messages without a bad element).
        Assert.Equal(7, expected.QuarantineRows);
        Assert.Equal(300 + 7 + 2 + 60, load.MessagesProduced);
        Assert.Equal(load.MessagesProduced, expected.EndOffsets.Values.Sum());
        Assert.Empty(load.EvictedPartitions());

        await using var database = new TestDatabase();
        await database.InitializeAsync();
        var differences = await IngestAudit.DifferencesAsync(database.ConnectionString, expected);
        Assert.Contains(differences, d => d.StartsWith("gpu_usage rows: 0, expected 5995", StringComparison.Ordinal));
        Assert.Contains(differences, d => d.StartsWith("ingest_offsets:", StringComparison.Ordinal));
    }
}
