using Prometheus;

namespace Pipeline.Ingest.Metrics;

/// <summary>
/// Every metric the ingest exports. Pass a registry of your own (tests do) to keep series apart;
/// the default is prometheus-net's global registry. Counters also feed <see cref="Totals"/>, which
/// the summary log line reads.
/// </summary>
public sealed class IngestMetrics
{
    public const string UsageTable = "gpu_usage";
    public const string HeartbeatTable = "gpu_heartbeat";

    public static string TableOf(Consuming.MessageKind kind) => kind == Consuming.MessageKind.Usage ? UsageTable : HeartbeatTable;

    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    public IngestMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.DefaultRegistry;
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        MessagesConsumed = factory.CreateCounter("ingest_messages_consumed_total", "Kafka messages handed to the ingest, by topic.", "topic");
        SamplesWritten = factory.CreateCounter("ingest_samples_written_total", "Samples committed to the database, by table.", "table");
        SamplesRejected = factory.CreateCounter("ingest_samples_rejected_total", "Messages or array elements quarantined, by table and reason.", "table", "reason");
        DuplicatesSkipped = factory.CreateCounter("ingest_duplicates_skipped_total", "Samples not stored because the same (gpu_id, time) was already stored or repeated in the batch.", "table");
        BatchRows = factory.CreateHistogram("ingest_batch_rows", "Rows (samples and quarantined entries) per committed batch.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 4, 10) });
        FlushDuration = factory.CreateHistogram("ingest_flush_duration_seconds", "Time to write and commit one batch, retries included.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2.5, 12) });
        ChannelDepth = factory.CreateGauge("ingest_channel_depth_messages", "Messages buffered between the Kafka consumer and the writers.");
        ChannelBytes = factory.CreateGauge("ingest_channel_depth_bytes", "Key and value bytes buffered between the Kafka consumer and the writers.");
        ConsumerPaused = factory.CreateGauge("ingest_consumer_paused", "1 while consumption is paused because the buffer is full (the database is behind).");
        ConsumerLag = factory.CreateGauge("ingest_consumer_lag_messages", "Messages between the partition's high watermark and the committed position (librdkafka statistics).", "topic", "partition");
        AssignedPartitions = factory.CreateGauge("ingest_assigned_partitions", "Partitions this process owns (claimed in ingest_offsets).");
        EndToEndLatency = factory.CreateHistogram("ingest_end_to_end_latency_seconds", "From the Kafka message timestamp to the commit of its batch.",
            new HistogramConfiguration { Buckets = LatencyBuckets });
        DatabaseErrors = factory.CreateCounter("ingest_database_errors_total", "Failed database operations, by operation.", "operation");
        KafkaErrors = factory.CreateCounter("ingest_kafka_errors_total", "Kafka client errors (consume errors, broker errors, dead-letter failures), by kind.", "kind");
        Retries = factory.CreateCounter("ingest_retries_total", "Retries after a failure, by operation.", "operation");
        FencedPartitions = factory.CreateCounter("ingest_fenced_partitions_total", "Batches whose partition had been claimed by another owner; their rows were dropped uncommitted.");

        foreach (var table in new[] { UsageTable, HeartbeatTable })
        {
            SamplesWritten.WithLabels(table);
            DuplicatesSkipped.WithLabels(table);
        }
        foreach (var operation in new[] { "write_batch", "claim_partitions", "partition_maintenance" })
        {
            DatabaseErrors.WithLabels(operation);
            Retries.WithLabels(operation);
        }
        foreach (var kind in new[] { "consume", "client", "dead_letter" })
            KafkaErrors.WithLabels(kind);
    }

    public CollectorRegistry Registry { get; }
    public IngestTotals Totals { get; } = new();

    public Counter MessagesConsumed { get; }
    public Counter SamplesWritten { get; }
    public Counter SamplesRejected { get; }
    public Counter DuplicatesSkipped { get; }
    public Histogram BatchRows { get; }
    public Histogram FlushDuration { get; }
    public Gauge ChannelDepth { get; }
    public Gauge ChannelBytes { get; }
    public Gauge ConsumerPaused { get; }
    public Gauge ConsumerLag { get; }
    public Gauge AssignedPartitions { get; }
    public Histogram EndToEndLatency { get; }
    public Counter DatabaseErrors { get; }
    public Counter KafkaErrors { get; }
    public Counter Retries { get; }
    public Counter FencedPartitions { get; }

    /// <summary>Registers the topics up front so their series exist (at zero) before the first message.</summary>
    public void RegisterTopics(params string[] topics)
    {
        foreach (var topic in topics) MessagesConsumed.WithLabels(topic);
    }
}

/// <summary>Running totals since start-up, for the periodic summary line. Updated with Interlocked by any thread.</summary>
public sealed class IngestTotals
{
    private long _messages, _usageRows, _heartbeatRows, _rejected, _duplicates, _batches;

    public long Messages => Interlocked.Read(ref _messages);
    public long UsageRows => Interlocked.Read(ref _usageRows);
    public long HeartbeatRows => Interlocked.Read(ref _heartbeatRows);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Batches => Interlocked.Read(ref _batches);

    internal void AddMessages(long n) => Interlocked.Add(ref _messages, n);

    internal void AddBatch(long usageRows, long heartbeatRows, long rejected, long duplicates)
    {
        Interlocked.Add(ref _usageRows, usageRows);
        Interlocked.Add(ref _heartbeatRows, heartbeatRows);
        Interlocked.Add(ref _rejected, rejected);
        Interlocked.Add(ref _duplicates, duplicates);
        Interlocked.Increment(ref _batches);
    }

    public TotalsSnapshot Snapshot() => new(Messages, UsageRows, HeartbeatRows, Rejected, Duplicates, Batches);
}

public readonly record struct TotalsSnapshot(long Messages, long UsageRows, long HeartbeatRows, long Rejected, long Duplicates, long Batches)
{
    public static TotalsSnapshot operator -(TotalsSnapshot a, TotalsSnapshot b) =>
        new(a.Messages - b.Messages, a.UsageRows - b.UsageRows, a.HeartbeatRows - b.HeartbeatRows,
            a.Rejected - b.Rejected, a.Duplicates - b.Duplicates, a.Batches - b.Batches);
}
