using Pipeline.Ingest;

namespace Pipeline.Cli.Commands;

public sealed class IngestCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["ingest"];
    public string Summary => "consume GPU usage and heartbeats from Kafka into the database, exactly once";
    public string Usage => IngestOptions.Usage;

    public Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var options = IngestOptions.From(context.Configuration);
        return new IngestService(options, context.LoggerFactory).RunAsync(cancellation);
    }
}
