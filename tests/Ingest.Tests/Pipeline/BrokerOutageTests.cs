using Confluent.Kafka;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>The broker goes away and comes back: the ingest reconnects by itself and lands everything exactly once.</summary>
public sealed class BrokerOutageTests : IAsyncLifetime
{
    // The mock's brokers are numbered from 1; PipelineWorld runs a single one.
    private const int OnlyBroker = 1;
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(5);

    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    // Seen in the mock: with the classic protocol the 3 s test session expires during the outage,
    // partitions are lost and reassigned from the database offsets afterwards; with KIP-848 the
    // broker-side session outlives the outage and the member keeps its partitions. Both must land exactly.
    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public async Task Broker_unreachable_for_a_while_is_reconnected_and_nothing_is_lost_or_doubled(GroupProtocol protocol)
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await world.Load.ProduceAsync(300);
        await using var ingest = InProcessIngest.Start(world.Options(o => o with { GroupProtocol = protocol }));
        await world.AssertExactLandingAsync(ingest);
        var errorsBefore = await ingest.MetricAsync("ingest_kafka_errors_total");

        world.Broker.SetBrokerDown(OnlyBroker);
        // The client must have noticed the outage, or the test proves nothing about reconnecting.
        await ExactlyOnceTests.WaitForMetricAsync(ingest, "ingest_kafka_errors_total", errorsBefore + 1);
        await Task.Delay(Outage);
        world.Broker.SetBrokerUp(OnlyBroker);

        // Only a consumer that found the broker again can land this second load.
        await world.Load.ProduceAsync(600);
        await world.AssertExactLandingAsync(ingest);
        Assert.False(ingest.Run.IsCompleted, "the ingest stopped after the outage\n" + ingest.Log);
        Assert.Equal(0, await ingest.StopAsync());
        Assert.Equal(world.Load.UsageRowsProduced, await ingest.MetricAsync("ingest_samples_written_total", ("table", "gpu_usage")));
    }
}
