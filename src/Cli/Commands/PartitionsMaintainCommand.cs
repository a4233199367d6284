using Microsoft.Extensions.Logging;
using Pipeline.Database;
using Pipeline.Database.Partitions;
using Pipeline.Hosting;

namespace Pipeline.Cli.Commands;

public sealed class PartitionsMaintainCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["partitions", "maintain"];
    public string Summary => "create upcoming daily partitions and drop those past retention";
    public string Usage => "--Retention:Window=30d     how long samples are kept (default 30d)\n--Retention:DaysAhead=7    partitions made ahead of time (default 7)";

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        var db = DatabaseOptions.From(context.Configuration);
        var retention = Settings.Duration(context.Configuration, "Retention:Window", TimeSpan.FromDays(30), TimeSpan.FromDays(1), TimeSpan.FromDays(3650));
        var ahead = Settings.Int(context.Configuration, "Retention:DaysAhead", 7, 1, 90);
        var report = await new PartitionMaintenance(db.ConnectionString, context.LoggerFactory.CreateLogger<PartitionMaintenance>())
            .RunAsync(retention, ahead, DateTimeOffset.UtcNow, cancellation);
        context.Out.WriteLine($"partitions maintain ({report.StorageMode}): {report.Created} created, {report.Dropped} dropped");
        return 0;
    }
}
