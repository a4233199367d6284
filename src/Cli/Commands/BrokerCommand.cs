using Pipeline.EmbeddedKafka;

namespace Pipeline.Cli.Commands;

public sealed class BrokerCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["broker"];
    public string Summary => "run the embedded Kafka broker (librdkafka mock cluster) with the pipeline's topics until stopped";
    public string Usage =>
        "--Broker:StateDirectory=.local/broker   bootstrap.txt (the address) is written here while it runs\n" +
        "--Broker:Brokers=1                      number of mock brokers\n" +
        $"--Broker:Topics={BrokerOptions.DefaultTopics}\n" +
        $"--Broker:Partitions={BrokerOptions.DefaultPartitions}                   partitions of each of Broker:Topics\n" +
        "--Broker:ExtraTopics=name:partitions,...\n" +
        $"--Broker:WatchGroups={RetentionWatchOptions.DefaultWatchGroups}    groups whose unread backlog is watched\n" +
        "--Broker:RetentionWarnPercent=80       warn when a backlog reaches this share of the 5 MiB per-partition ceiling\n" +
        "--Broker:RetentionCheckInterval=5s\n" +
        "--Broker:RetentionSummaryInterval=1m";

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
