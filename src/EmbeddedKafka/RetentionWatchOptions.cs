using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;

namespace Pipeline.EmbeddedKafka;

/// <param name="CheckInterval">How often every partition's watermarks and the groups' committed offsets are read.</param>
/// <param name="SummaryInterval">How often one summary line per topic and group is logged (and how often a
/// partition that stays near the ceiling is warned about again).</param>
/// <param name="WarnPercent">Warn when a group's unconsumed backlog in a partition reaches this share of the ceiling.</param>
/// <param name="WatchGroups">Consumer groups whose committed offsets mark what has been read.</param>
public sealed record RetentionWatchOptions(
    TimeSpan CheckInterval,
    TimeSpan SummaryInterval,
    int WarnPercent,
    IReadOnlyList<string> WatchGroups)
{
    public const string DefaultWatchGroups = "pipeline-ingest";

    public static RetentionWatchOptions From(IConfiguration config)
    {
        var check = Settings.Duration(config, "Broker:RetentionCheckInterval", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
        var summary = Settings.Duration(config, "Broker:RetentionSummaryInterval", TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1));
        var warnPercent = Settings.Int(config, "Broker:RetentionWarnPercent", 80, 1, 100);
        var groups = BrokerOptions.SplitList(Settings.OptionalString(config, "Broker:WatchGroups", DefaultWatchGroups)).Distinct().ToList();
        if (groups.Count == 0)
            throw new InvalidSettingException("Broker:WatchGroups", "names no consumer group");
        return new RetentionWatchOptions(check, summary, warnPercent, groups);
    }
}
