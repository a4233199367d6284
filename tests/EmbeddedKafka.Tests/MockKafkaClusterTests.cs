using Confluent.Kafka;
using Pipeline.EmbeddedKafka;

namespace Pipeline.EmbeddedKafka.Tests;

public class MockKafkaClusterTests
{
    [Fact]
    public void Produced_message_is_consumed_from_created_topic()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("t1", 4);
        using var p = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        p.Produce(new TopicPartition("t1", 3), new Message<string, string> { Key = "k", Value = "v" });
        p.Flush(TimeSpan.FromSeconds(10));
        using var c = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "g" }).Build();
        c.Assign(new TopicPartitionOffset("t1", 3, Offset.Beginning));
        var r = c.Consume(TimeSpan.FromSeconds(10));
        Assert.Equal("v", r?.Message.Value);
    }
}
