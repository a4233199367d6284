using Pipeline.EmbeddedKafka;

namespace Pipeline.Cli.Commands;

public sealed class BrokerCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["broker"];
    public string Summary => "run the embedded Kafka broker (librdkafka mock cluster) with the pipeline's topics until stopped";
    public string Usage => string.Join('\n',
        "--Broker:StateDirectory=.local/broker        bootstrap.txt (the address) is written here while it runs",
        "--Broker:Brokers=1                           number of mock brokers",
        $"--Broker:Topics={BrokerOptions.DefaultTopics}",
        $"--Broker:Partitions={BrokerOptions.DefaultPartitions}                       partitions of each of Broker:Topics",
        "--Broker:ExtraTopics=name:partitions,...     more topics, e.g. gpu.usage.dlq:8",
        $"--Broker:WatchGroups={RetentionWatchOptions.DefaultWatchGroups}         consumer groups whose unread backlog is watched",
        "--Broker:RetentionWarnPercent=80             warn when a backlog reaches this share of the 5 MiB per-partition ceiling",
        "--Broker:RetentionCheckInterval=5s",
        "--Broker:RetentionSummaryInterval=1m         one summary line per topic and group");

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var options = BrokerOptions.From(context.Configuration);
        try
        {
            await EmbeddedBrokerHost.RunAsync(options, context.LoggerFactory, cancellation);
            return 0;
        }
        catch (StateDirectoryInUseException ex)
        {
            Console.Error.WriteLine($"broker: {ex.Message}");
            return 1;
        }
    }
}
