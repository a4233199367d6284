using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;

namespace Pipeline.Ingest;

/// <summary>
/// Which Kafka consumer group protocol the ingest joins with. Both work against the embedded mock
/// broker (the tests run both). Classic is the default because it works with every Kafka broker;
/// KIP-848 needs Apache Kafka 4.0 or later (the compose stack's 3.9 only previews it). With the
/// mock broker, classic rebalances wait Kafka:SessionTimeout minus a second: choose consumer there,
/// or a short session timeout.
/// </summary>
public enum GroupProtocol
{
    /// <summary>Classic join/sync groups with the cooperative-sticky assignor: works with every broker.</summary>
    Classic,

    /// <summary>KIP-848 (group.protocol=consumer): broker-side assignment, Apache Kafka 4.0 and later.</summary>
    Consumer,
}

/// <summary>
/// Every setting of the ingest, read once at start-up and validated there, so a bad value stops
/// the process before it touches Kafka or the database. Keys and defaults are listed in
/// <see cref="Usage"/> (what "pipeline help ingest" prints).
/// </summary>
public sealed record IngestOptions
{
    public required string ConnectionString { get; init; }
    public required string BootstrapServers { get; init; }
    public string ConsumerGroup { get; init; } = "pipeline-ingest";
    public string UsageTopic { get; init; } = "gpu.usage.v1";
    public string HeartbeatTopic { get; init; } = "gpu.heartbeat.v1";

    /// <summary>A batch is written once it holds this many rows (samples plus quarantined entries).</summary>
    public int BatchMaxRows { get; init; } = 50_000;

    /// <summary>...or once its first message is this old, whichever comes first.</summary>
    public TimeSpan BatchMaxAge { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Writer connections; each owns a fixed share of the partitions (a lane), which keeps per-partition order.</summary>
    public int Writers { get; init; } = 2;

    /// <summary>Messages buffered between the consumer and all writers together; consumption pauses when full.</summary>
    public int ChannelCapacity { get; init; } = 20_000;

    /// <summary>Bytes of message keys and values buffered between the consumer and all writers together.</summary>
    public long ChannelMaxBytes { get; init; } = 64L * 1024 * 1024;

    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);
    public int MaxValueBytes { get; init; } = 256 * 1024;

    /// <summary>Rejected messages are also produced here after their quarantine row commits; null = off.</summary>
    public string? DeadLetterTopic { get; init; }

    /// <summary>Port of /metrics and /health/*; 0 picks a free port (logged at start-up).</summary>
    public int MetricsPort { get; init; } = 9464;

    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan SummaryInterval { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan PartitionMaintenanceInterval { get; init; } = TimeSpan.FromHours(1);

    public GroupProtocol GroupProtocol { get; init; } = GroupProtocol.Classic;

    /// <summary>Classic protocol only; KIP-848 takes the session timeout from the broker.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Extra librdkafka properties (Kafka:some.property=value), applied last to the consumer and the dead-letter producer.</summary>
    public IReadOnlyDictionary<string, string> KafkaProperties { get; init; } = new Dictionary<string, string>();

    public const string Usage =
        """
        --Database:ConnectionString=...        required
        --Kafka:BootstrapServers=host:port     required
        --Kafka:GroupProtocol=classic          classic (cooperative-sticky, any broker) | consumer (KIP-848, Kafka 4+)
        --Kafka:SessionTimeout=45s             classic protocol only
        --Kafka:<librdkafka.property>=value    passed through, e.g. --Kafka:security.protocol=SSL
        --Ingest:ConsumerGroup=pipeline-ingest
        --Ingest:UsageTopic=gpu.usage.v1
        --Ingest:HeartbeatTopic=gpu.heartbeat.v1
        --Ingest:BatchMaxRows=50000            rows per COPY batch
        --Ingest:BatchMaxAge=250ms             a partly filled batch is written after this long
        --Ingest:Writers=2                     writer connections (lanes)
        --Ingest:ChannelCapacity=20000         messages buffered before consumption pauses
        --Ingest:ChannelMaxBytes=67108864      bytes buffered before consumption pauses
        --Ingest:MaxFutureSkew=5m
        --Ingest:Retention=30d                 default: Retention:Window
        --Ingest:MaxValueBytes=262144
        --Ingest:DeadLetterTopic=              optional
        --Ingest:MetricsPort=9464              0 = any free port
        --Ingest:ShutdownTimeout=30s
        --Ingest:RetryMaxDelay=30s
        --Ingest:SummaryInterval=1m
        --Ingest:PartitionMaintenanceInterval=1h
        """;

    public static IngestOptions From(IConfiguration config)
    {
        var connectionString = Database.DatabaseOptions.From(config).ConnectionString;
        var retentionWindow = Settings.Duration(config, "Retention:Window", TimeSpan.FromDays(30), TimeSpan.FromDays(1), TimeSpan.FromDays(3650));
        var options = new IngestOptions
        {
            ConnectionString = connectionString,
            BootstrapServers = Settings.RequiredString(config, "Kafka:BootstrapServers"),
            ConsumerGroup = Settings.OptionalString(config, "Ingest:ConsumerGroup", "pipeline-ingest"),
            UsageTopic = Settings.OptionalString(config, "Ingest:UsageTopic", "gpu.usage.v1"),
            HeartbeatTopic = Settings.OptionalString(config, "Ingest:HeartbeatTopic", "gpu.heartbeat.v1"),
            BatchMaxRows = Settings.Int(config, "Ingest:BatchMaxRows", 50_000, 1, 1_000_000),
            BatchMaxAge = Settings.Duration(config, "Ingest:BatchMaxAge", TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(10)),
            Writers = Settings.Int(config, "Ingest:Writers", 2, 1, 16),
            ChannelCapacity = Settings.Int(config, "Ingest:ChannelCapacity", 20_000, 16, 10_000_000),
            ChannelMaxBytes = Settings.Long(config, "Ingest:ChannelMaxBytes", 64L * 1024 * 1024, 1024 * 1024, 16L * 1024 * 1024 * 1024),
            MaxFutureSkew = Settings.Duration(config, "Ingest:MaxFutureSkew", TimeSpan.FromMinutes(5), TimeSpan.Zero, TimeSpan.FromDays(1)),
            Retention = Settings.Duration(config, "Ingest:Retention", retentionWindow, TimeSpan.FromDays(1), TimeSpan.FromDays(3650)),
            MaxValueBytes = Settings.Int(config, "Ingest:MaxValueBytes", 256 * 1024, 64, 64 * 1024 * 1024),
            DeadLetterTopic = Settings.OptionalString(config, "Ingest:DeadLetterTopic", "") is { Length: > 0 } dlt ? dlt : null,
            MetricsPort = Settings.Int(config, "Ingest:MetricsPort", 9464, 0, 65535),
            ShutdownTimeout = Settings.Duration(config, "Ingest:ShutdownTimeout", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(30)),
            RetryMaxDelay = Settings.Duration(config, "Ingest:RetryMaxDelay", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
            SummaryInterval = Settings.Duration(config, "Ingest:SummaryInterval", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
            PartitionMaintenanceInterval = Settings.Duration(config, "Ingest:PartitionMaintenanceInterval", TimeSpan.FromHours(1), TimeSpan.FromSeconds(10), TimeSpan.FromDays(1)),
            GroupProtocol = ReadGroupProtocol(config),
            SessionTimeout = Settings.Duration(config, "Kafka:SessionTimeout", TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(30)),
            KafkaProperties = ReadPassthrough(config),
        };
        if (options.UsageTopic == options.HeartbeatTopic)
            throw new InvalidSettingException("Ingest:HeartbeatTopic", "must differ from Ingest:UsageTopic");
        if (options.DeadLetterTopic is { } dead && (dead == options.UsageTopic || dead == options.HeartbeatTopic))
            throw new InvalidSettingException("Ingest:DeadLetterTopic", "must differ from the topics the ingest consumes");
        if (options.ChannelCapacity < options.Writers)
            throw new InvalidSettingException("Ingest:ChannelCapacity", $"must be at least Ingest:Writers ({options.Writers})");
        return options;
    }

    private static GroupProtocol ReadGroupProtocol(IConfiguration config) =>
        Settings.OptionalString(config, "Kafka:GroupProtocol", "classic").ToLowerInvariant() switch
        {
            "classic" => GroupProtocol.Classic,
            "consumer" => GroupProtocol.Consumer,
            var other => throw new InvalidSettingException("Kafka:GroupProtocol", $"'{other}' is neither 'classic' nor 'consumer'"),
        };

    // librdkafka property names contain dots; the named Kafka:* settings above do not.
    private static Dictionary<string, string> ReadPassthrough(IConfiguration config) =>
        config.GetSection("Kafka").GetChildren()
            .Where(s => s.Key.Contains('.', StringComparison.Ordinal) && s.Value is not null)
            .ToDictionary(s => s.Key, s => s.Value!, StringComparer.Ordinal);
}
