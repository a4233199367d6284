using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;

namespace Pipeline.EmbeddedKafka.Tests;

public class BrokerOptionsTests
{
    private static BrokerOptions Read(params (string Key, string Value)[] settings) =>
        BrokerOptions.From(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
            .Build());

    [Fact]
    public void Defaults_are_the_pipeline_topics_with_32_partitions_watched_for_the_ingest_group()
    {
        var options = Read();

        Assert.Equal([new TopicSpec("gpu.usage.v1", 32), new TopicSpec("gpu.heartbeat.v1", 32)], options.Topics);
        Assert.Equal(1, options.Brokers);
        Assert.Equal(["pipeline-ingest"], options.Retention.WatchGroups);
        Assert.Equal(Path.GetFullPath(".local/broker/bootstrap.txt"), options.BootstrapFile);
    }

    [Fact]
    public void Extra_topics_are_added_with_their_own_partition_counts()
    {
        var options = Read(("Broker:Topics", "a"), ("Broker:Partitions", "4"), ("Broker:ExtraTopics", "b.dlq:2, c:7"));

        Assert.Equal([new TopicSpec("a", 4), new TopicSpec("b.dlq", 2), new TopicSpec("c", 7)], options.Topics);
    }

    [Theory]
    [InlineData("Broker:ExtraTopics", "no-count")]
    [InlineData("Broker:ExtraTopics", "x:0")]
    [InlineData("Broker:ExtraTopics", "x:many")]
    [InlineData("Broker:ExtraTopics", "bad/name:3")]
    [InlineData("Broker:ExtraTopics", "gpu.usage.v1:3")]
    [InlineData("Broker:Topics", "bad name")]
    [InlineData("Broker:Partitions", "0")]
    [InlineData("Broker:Brokers", "0")]
    [InlineData("Broker:RetentionWarnPercent", "101")]
    [InlineData("Broker:RetentionCheckInterval", "soon")]
    public void Bad_setting_is_refused_naming_its_key(string key, string value)
    {
        var error = Assert.Throws<InvalidSettingException>(() => Read((key, value)));

        Assert.Equal(key, error.Key);
    }
}
