using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Cli;
using Pipeline.EmbeddedKafka;
using Pipeline.Hosting;
using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Simulation;

namespace Pipeline.Ingest.Tests.Decoding;

/// <summary>The simulator against the real Kafka-protocol broker: what it reports sending is what a consumer reads.</summary>
public class SimulatedTrafficOverKafkaTests
{
    private static List<ConsumeResult<byte[], byte[]>> ReadAll(string bootstrap, string topic, int partitions, long expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "simulator-test-" + Guid.NewGuid(),
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<byte[], byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false } r) results.Add(r);
        }
        // Anything beyond the expected count would be a bug too.
        while (consumer.Consume(TimeSpan.FromMilliseconds(300)) is { } extra) results.Add(extra);
        return results;
    }

    [Fact]
    public async Task Consumer_reads_what_the_summary_reports_and_retries_add_no_new_samples()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("sim-usage", 8);
        cluster.CreateTopic("sim-heartbeat", 4);
        var simulator = new AgentSimulator(new SimulationPlan
        {
            Gpus = 40,
            Providers = 3,
            Start = DateTimeOffset.UtcNow.AddHours(-1),
            InvalidFraction = 0.05,
            DuplicateFraction = 0.05,
        });

        var summary = await SimulatedTrafficProducer.RunAsync(simulator, cluster.BootstrapServers, "sim-usage", "sim-heartbeat",
            new SimulationLimits(0, null, 5000), TimeSpan.FromMinutes(1), _ => { }, CancellationToken.None);

        Assert.Equal(0, summary.DeliveryFailures);
        Assert.Equal(summary.Messages, summary.Delivered);
        var usage = ReadAll(cluster.BootstrapServers, "sim-usage", 8, summary.UsageMessages);
        var heartbeats = ReadAll(cluster.BootstrapServers, "sim-heartbeat", 4, summary.HeartbeatMessages);
        Assert.Equal(summary.UsageMessages, usage.Count);
        Assert.Equal(summary.HeartbeatMessages, heartbeats.Count);

        var decoder = new UsageDecoder(ValidationRules.Default);
        var accepted = new List<UsageSample>();
        var rejected = new List<Rejection>();
        foreach (var r in usage)
        {
            var before = accepted.Count;
            decoder.Decode(r.Message.Value ?? [], accepted, rejected);
            Assert.All(accepted.Skip(before), s => Assert.Equal(Encoding.UTF8.GetString(r.Message.Key), s.GpuId));
        }
        Assert.Equal(summary.ExpectedUsageRows, accepted.Select(s => (s.GpuId, s.Time)).Distinct().Count());
        Assert.True(accepted.Count > summary.ExpectedUsageRows, "retries should have delivered some samples twice");
    }

    [Fact]
    public async Task Agents_simulate_command_sends_to_the_configured_topics_and_exits_zero()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("cli-usage", 4);
        cluster.CreateTopic("cli-heartbeat", 2);
        var configuration = PipelineConfiguration.Build(
        [
            $"--Kafka:BootstrapServers={cluster.BootstrapServers}", "--Ingest:UsageTopic=cli-usage", "--Ingest:HeartbeatTopic=cli-heartbeat",
            "--Simulate:Gpus=20", "--Simulate:SamplesPerSecond=0", "--Simulate:TotalSamples=1000", "--Simulate:InvalidFraction=0.1",
        ], AppContext.BaseDirectory);
        var output = new StringWriter();
        var command = CommandCatalog.All.Single(c => c.Path.SequenceEqual(["agents", "simulate"]));

        var exit = await command.RunAsync(new CliContext(configuration, NullLoggerFactory.Instance, [], output), CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Contains("agents simulate: done. ", output.ToString());
        Assert.Contains("1000 usage samples in 100", output.ToString());
        Assert.Equal(100, ReadAll(cluster.BootstrapServers, "cli-usage", 4, 100).Count);
        Assert.NotEmpty(ReadAll(cluster.BootstrapServers, "cli-heartbeat", 2, 20));
    }

    [Fact]
    public async Task Agents_simulate_refuses_unpaced_runs_without_a_sample_count()
    {
        var configuration = PipelineConfiguration.Build(["--Kafka:BootstrapServers=127.0.0.1:1", "--Simulate:SamplesPerSecond=0"], AppContext.BaseDirectory);
        var command = CommandCatalog.All.Single(c => c.Path.SequenceEqual(["agents", "simulate"]));

        var error = await Assert.ThrowsAsync<InvalidSettingException>(() =>
            command.RunAsync(new CliContext(configuration, NullLoggerFactory.Instance, [], new StringWriter()), CancellationToken.None));

        Assert.Equal("Simulate:TotalSamples", error.Key);
    }
}
