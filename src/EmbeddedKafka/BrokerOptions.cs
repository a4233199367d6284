using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;

namespace Pipeline.EmbeddedKafka;

/// <summary>A topic the embedded broker creates at start-up.</summary>
public sealed record TopicSpec(string Name, int Partitions);

/// <summary>
/// Settings of the `pipeline broker` command (section "Broker"). Everything is read and checked
/// before the broker starts, so a bad value stops start-up with a message naming its key.
/// </summary>
public sealed partial record BrokerOptions(
    int Brokers,
    IReadOnlyList<TopicSpec> Topics,
    string StateDirectory,
    RetentionWatchOptions Retention)
{
    public const string DefaultTopics = "gpu.usage.v1,gpu.heartbeat.v1";
    public const int DefaultPartitions = 32;
    public const string DefaultStateDirectory = ".local/broker";

    /// <summary>File in <see cref="StateDirectory"/> holding the bootstrap address while the broker runs.</summary>
    public string BootstrapFile => Path.Combine(StateDirectory, "bootstrap.txt");

    public static BrokerOptions From(IConfiguration config)
    {
        var brokers = Settings.Int(config, "Broker:Brokers", 1, 1, 9);
        var partitions = Settings.Int(config, "Broker:Partitions", DefaultPartitions, 1, 1024);

        var topics = new List<TopicSpec>();
        foreach (var name in SplitList(Settings.OptionalString(config, "Broker:Topics", DefaultTopics)))
            topics.Add(new TopicSpec(CheckTopicName("Broker:Topics", name), partitions));
        foreach (var entry in SplitList(Settings.OptionalString(config, "Broker:ExtraTopics", "")))
            topics.Add(ParseExtraTopic(entry));
        if (topics.Count == 0)
            throw new InvalidSettingException("Broker:Topics", "names no topic");
        var duplicate = topics.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidSettingException("Broker:ExtraTopics", $"topic '{duplicate.Key}' is listed twice (Broker:Topics and Broker:ExtraTopics together)");

        var stateDirectory = Path.GetFullPath(Settings.OptionalString(config, "Broker:StateDirectory", DefaultStateDirectory));
        return new BrokerOptions(brokers, topics, stateDirectory, RetentionWatchOptions.From(config));
    }

    internal static IEnumerable<string> SplitList(string raw) =>
        raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>"name:partitions", e.g. "gpu.usage.dlq:8".</summary>
    private static TopicSpec ParseExtraTopic(string entry)
    {
        const string key = "Broker:ExtraTopics";
        var colon = entry.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(entry[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var partitions))
            throw new InvalidSettingException(key, $"'{entry}' is not name:partitions (example: gpu.usage.dlq:8)");
        if (partitions is < 1 or > 1024)
            throw new InvalidSettingException(key, $"'{entry}': {partitions} partitions is outside the allowed range 1..1024");
        return new TopicSpec(CheckTopicName(key, entry[..colon]), partitions);
    }

    // Kafka's own rule for topic names.
    private static string CheckTopicName(string key, string name) =>
        TopicName().IsMatch(name) && name is not "." and not ".."
            ? name
            : throw new InvalidSettingException(key, $"'{name}' is not a valid topic name (1-249 of a-z A-Z 0-9 . _ -)");

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$")]
    private static partial Regex TopicName();
}
