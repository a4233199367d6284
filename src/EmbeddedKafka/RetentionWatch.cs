using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.EmbeddedKafka;

/// <summary>
/// Makes the mock broker's silent eviction loud. librdkafka's mock cluster (rdkafka_mock.c,
/// rd_kafka_mock_partition_init and rd_kafka_mock_msgset_new) keeps per partition at most
/// max_size = 5 MiB (5,242,880 bytes of stored record batches, as produced: compressed batches
/// count compressed) and max_cnt = 100,000 record batches. On every append it drops the oldest
/// batches while either limit is exceeded (always keeping the newest one): the low watermark
/// moves up, and a consumer behind it just jumps forward, with no error anywhere.
/// Every batch has a 61-byte header, so 100,000 batches need more than 6.1 MB: the byte limit is
/// always the one reached first, and it is the one watched here.
///
/// Each check reads every partition's low/high watermarks and each watched group's committed
/// offset (an OffsetFetch from a client that never subscribes, so it never joins or rebalances
/// the group), then:
/// - ERROR when the low watermark has passed the committed offset: offsets committed..low-1 were
///   evicted before the group read them (reported once per newly lost range);
/// - WARNING when the unread backlog (high - max(committed, low)) is estimated at WarnPercent of
///   the ceiling or more.
/// The broker does not expose a partition's byte size, so the backlog in bytes is estimated per
/// partition from its message count times bytes per message:
/// - once a partition has evicted anything (low > 0) its log sits at the ceiling, so
///   5 MiB / (high - low) is the measured stored size per message, batching and compression included;
/// - before that, the mean key + value + header size of the newest messages (read back by an
///   internal consumer that never commits) plus 73 bytes of framing, i.e. as if every message were
///   its own batch (61-byte batch header + about 12 bytes of per-record varints). Batched
///   producers store less, so this errs towards warning early.
/// Not thread-safe: one caller drives <see cref="Check"/> (normally <see cref="RunAsync"/>).
/// </summary>
public sealed class RetentionWatch : IDisposable
{
    public const long PartitionCeilingBytes = 5L * 1024 * 1024;
    public const int PartitionCeilingBatches = 100_000;
    private const int BatchHeaderBytes = 61;
    private const int RecordFramingBytes = 12;
    private const int SampleMessages = 32;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<TopicSpec> _topics;
    private readonly RetentionWatchOptions _options;
    private readonly ILogger _log;
    private readonly IConsumer<byte[]?, byte[]?> _probe;
    private readonly Dictionary<string, IConsumer<byte[]?, byte[]?>> _groupReaders = new();
    private readonly Dictionary<TopicPartition, PayloadSample> _samples = new();
    private readonly Dictionary<(string Group, TopicPartition Partition), long> _reportedLostUpTo = new();
    private readonly Dictionary<(string Group, TopicPartition Partition), long> _lastNearWarningMs = new();

    public RetentionWatch(string bootstrapServers, IReadOnlyList<TopicSpec> topics, RetentionWatchOptions options, ILogger logger)
    {
        _topics = topics;
        _options = options;
        _log = logger;
        _probe = BuildConsumer(bootstrapServers, "pipeline-broker-retention-watch");
        foreach (var group in options.WatchGroups)
            _groupReaders[group] = BuildConsumer(bootstrapServers, group);
    }

    /// <summary>Checks every CheckInterval and logs a summary every SummaryInterval until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(_options.CheckInterval);
        var sinceSummary = Stopwatch.StartNew();
        try
        {
            do
            {
                try
                {
                    // librdkafka calls block; keep them off the caller's thread.
                    var took = Stopwatch.StartNew();
                    var report = await Task.Run(Check, cancellation);
                    _log.LogDebug("retention watch: check took {Ms} ms", took.ElapsedMilliseconds);
                    if (sinceSummary.Elapsed >= _options.SummaryInterval)
                    {
                        LogSummary(report);
                        sinceSummary.Restart();
                    }
                }
                catch (KafkaException ex)
                {
                    _log.LogWarning("retention watch: check failed, will retry: {Reason}", ex.Error.Reason);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellation));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over every partition and watched group; logs what is wrong and returns what it saw.</summary>
    public IReadOnlyList<PartitionRetention> Check()
    {
        var watermarks = new Dictionary<TopicPartition, WatermarkOffsets>();
        foreach (var topic in _topics)
            for (var p = 0; p < topic.Partitions; p++)
            {
                var tp = new TopicPartition(topic.Name, p);
                watermarks[tp] = _probe.QueryWatermarkOffsets(tp, RequestTimeout);
            }

        RefreshPayloadSamples(watermarks);

        var report = new List<PartitionRetention>();
        foreach (var (group, reader) in _groupReaders)
        {
            var committed = reader.Committed(watermarks.Keys, RequestTimeout)
                .ToDictionary(c => c.TopicPartition, c => c.Offset.Value >= 0 ? c.Offset.Value : (long?)null);
            foreach (var (tp, marks) in watermarks)
            {
                var status = Assess(group, tp, marks.Low.Value, marks.High.Value, committed.GetValueOrDefault(tp));
                report.Add(status);
                ReportLoss(status);
                WarnIfNearCeiling(status);
            }
        }
        return report;
    }

    public void Dispose()
    {
        foreach (var reader in _groupReaders.Values) reader.Close();
        _probe.Close();
        foreach (var reader in _groupReaders.Values) reader.Dispose();
        _probe.Dispose();
    }

    private PartitionRetention Assess(string group, TopicPartition tp, long low, long high, long? committed)
    {
        var readFrom = Math.Max(committed ?? low, low);
        var backlog = Math.Max(0, high - readFrom);
        double bytesPerMessage;
        bool measured;
        if (low > 0 && high > low)
        {
            bytesPerMessage = PartitionCeilingBytes / (double)(high - low);
            measured = true;
        }
        else
        {
            var payload = _samples.TryGetValue(tp, out var sample) ? sample.MeanPayloadBytes : 0;
            bytesPerMessage = payload + BatchHeaderBytes + RecordFramingBytes;
            measured = false;
        }
        return new PartitionRetention(group, tp.Topic, tp.Partition.Value, low, high, committed, backlog, bytesPerMessage, measured);
    }

    private void ReportLoss(PartitionRetention s)
    {
        if (!s.EvictedUnread) return;
        var key = (s.Group, new TopicPartition(s.Topic, s.Partition));
        var lostFrom = Math.Max(s.Committed ?? 0, _reportedLostUpTo.GetValueOrDefault(key, 0));
        if (lostFrom >= s.Low) return;
        _reportedLostUpTo[key] = s.Low;
        _log.LogError(
            "DATA LOST: {Topic} partition {Partition} offsets {From}..{To} were evicted by the embedded broker (it keeps {CeilingMiB} MiB per partition) before consumer group {Group} read them; committed offset {Committed}, low watermark now {Low}. Consume faster or use more partitions (Broker:Partitions).",
            s.Topic, s.Partition, lostFrom, s.Low - 1, PartitionCeilingBytes / (1024 * 1024), s.Group,
            s.Committed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none", s.Low);
    }

    private void WarnIfNearCeiling(PartitionRetention s)
    {
        var key = (s.Group, new TopicPartition(s.Topic, s.Partition));
        if (s.CeilingPercent < _options.WarnPercent)
        {
            _lastNearWarningMs.Remove(key);
            return;
        }
        var now = Environment.TickCount64;
        if (_lastNearWarningMs.TryGetValue(key, out var last) && now - last < _options.SummaryInterval.TotalMilliseconds) return;
        _lastNearWarningMs[key] = now;
        _log.LogWarning(
            "RETENTION CEILING NEAR: {Topic} partition {Partition}: consumer group {Group} has {Backlog} unread messages, about {BacklogKiB} KiB = {Percent}% of the {CeilingMiB} MiB the embedded broker keeps per partition ({Estimate}); past 100% the oldest are evicted unread. Consume faster or use more partitions (Broker:Partitions).",
            s.Topic, s.Partition, s.Group, s.BacklogMessages, s.EstimatedBacklogBytes / 1024, (int)s.CeilingPercent,
            PartitionCeilingBytes / (1024 * 1024), s.SizeMeasured ? "size measured from the evicting log" : "size estimated from sampled messages");
    }

    private void LogSummary(IReadOnlyList<PartitionRetention> report)
    {
        foreach (var byTopicGroup in report.GroupBy(s => (s.Topic, s.Group)))
        {
            var parts = byTopicGroup.ToList();
            var fullest = parts.MaxBy(s => s.CeilingPercent)!;
            var near = parts.Count(s => s.CeilingPercent >= _options.WarnPercent);
            var lost = parts.Count(s => s.EvictedUnread);
            var level = lost > 0 ? LogLevel.Error : near > 0 ? LogLevel.Warning : LogLevel.Information;
            _log.Log(level,
                "retention summary: {Topic} group {Group}: {Partitions} partitions, {Retained} messages retained, {Backlog} unread (about {BacklogKiB} KiB); fullest is partition {FullestPartition} at {FullestPercent}% of {CeilingMiB} MiB; {Near} near the ceiling, {Lost} evicted unread",
                byTopicGroup.Key.Topic, byTopicGroup.Key.Group, parts.Count, parts.Sum(s => s.High - s.Low), parts.Sum(s => s.BacklogMessages),
                parts.Sum(s => s.EstimatedBacklogBytes) / 1024, fullest.Partition, (int)fullest.CeilingPercent,
                PartitionCeilingBytes / (1024 * 1024), near, lost);
        }
    }

    /// <summary>
    /// Reads back the newest few messages of partitions that grew since they were last sampled
    /// (at most once per SummaryInterval each, and only where the size is not measured already).
    /// </summary>
    private void RefreshPayloadSamples(Dictionary<TopicPartition, WatermarkOffsets> watermarks)
    {
        var now = Environment.TickCount64;
        var due = watermarks
            .Where(w => w.Value.Low.Value == 0 && w.Value.High.Value > 0)
            .Where(w => !_samples.TryGetValue(w.Key, out var s)
                || (s.SampledHigh != w.Value.High.Value && now - s.SampledAtMs >= _options.SummaryInterval.TotalMilliseconds))
            .Select(w => new TopicPartitionOffset(w.Key, Math.Max(w.Value.Low.Value, w.Value.High.Value - SampleMessages)))
            .ToList();
        if (due.Count == 0) return;

        var pending = due.Select(d => d.TopicPartition).ToHashSet();
        var totals = pending.ToDictionary(tp => tp, _ => (Bytes: 0L, Count: 0));
        _probe.Assign(due);
        try
        {
            var clock = Stopwatch.StartNew();
            while (pending.Count > 0 && clock.Elapsed < RequestTimeout)
            {
                var result = _probe.Consume(TimeSpan.FromMilliseconds(100));
                if (result is null || !pending.Contains(result.TopicPartition)) continue;
                if (result.IsPartitionEOF)
                {
                    pending.Remove(result.TopicPartition);
                    continue;
                }
                var (bytes, count) = totals[result.TopicPartition];
                totals[result.TopicPartition] = (bytes + PayloadBytes(result.Message), count + 1);
                if (count + 1 >= SampleMessages) pending.Remove(result.TopicPartition);
            }
        }
        catch (ConsumeException ex)
        {
            _log.LogDebug("retention watch: sampling stopped early: {Reason}", ex.Error.Reason);
        }
        finally
        {
            _probe.Unassign();
        }

        foreach (var (tp, (bytes, count)) in totals)
            if (count > 0)
                _samples[tp] = new PayloadSample((double)bytes / count, watermarks[tp].High.Value, now);
    }

    private static long PayloadBytes(Message<byte[]?, byte[]?> message)
    {
        long size = (message.Key?.Length ?? 0) + (message.Value?.Length ?? 0);
        if (message.Headers is { } headers)
            foreach (var h in headers)
                size += System.Text.Encoding.UTF8.GetByteCount(h.Key) + (h.GetValueBytes()?.Length ?? 0);
        return size;
    }

    private IConsumer<byte[]?, byte[]?> BuildConsumer(string bootstrapServers, string groupId) =>
        new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = groupId,
            // Never subscribes and never commits: it only reads, so the watched group is left alone.
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            MaxPartitionFetchBytes = 64 * 1024,
        })
        .SetLogHandler((_, m) => _log.LogDebug("retention watch client ({Group}): {Facility} {Message}", groupId, m.Facility, m.Message))
        .Build();

    private sealed record PayloadSample(double MeanPayloadBytes, long SampledHigh, long SampledAtMs);
}

/// <summary>What one retention check saw for one partition and one watched consumer group.</summary>
/// <param name="Committed">The group's committed offset, null when it has committed none.</param>
/// <param name="BacklogMessages">high - max(committed, low): retained messages the group has not read.</param>
/// <param name="SizeMeasured">True when bytes per message comes from a log already at the ceiling, false when estimated.</param>
public sealed record PartitionRetention(
    string Group,
    string Topic,
    int Partition,
    long Low,
    long High,
    long? Committed,
    long BacklogMessages,
    double BytesPerMessage,
    bool SizeMeasured)
{
    public long EstimatedBacklogBytes => (long)(BacklogMessages * BytesPerMessage);

    public double CeilingPercent => 100.0 * EstimatedBacklogBytes / RetentionWatch.PartitionCeilingBytes;

    /// <summary>Messages were evicted that the group never read (with no commit at all, any eviction counts).</summary>
    public bool EvictedUnread => Committed is { } c ? Low > c : Low > 0;
}
