using System.Collections.Concurrent;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Ingest.Batching;
using Pipeline.Ingest.Metrics;
using Pipeline.Ingest.Offsets;
using Pipeline.Ingest.Resilience;

namespace Pipeline.Ingest.Consuming;

/// <summary>
/// The Kafka side of the ingest, on one dedicated thread (the only thread that touches the
/// Kafka client). It claims partitions in ingest_offsets on assignment and starts them at the
/// stored offset, routes each message to its partition's lane, pauses every partition when the
/// buffer budget is spent (the database is behind) and resumes at half, stores committed offsets
/// to Kafka for lag tooling, and on shutdown lets the lanes drain before it leaves the group.
/// </summary>
public sealed class IngestConsumer : IPartitionFeedback
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly IngestOptions _options;
    private readonly OffsetStore _offsets;
    private readonly RetryPolicy _retry;
    private readonly IReadOnlyList<ChannelWriter<ConsumedMessage>> _lanes;
    private readonly BufferBudget _budget;
    private readonly IngestMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _ownerId;

    // Consumer-thread state: touched only inside Run and the rebalance/statistics callbacks it drives.
    private readonly Dictionary<TopicPartition, PartitionClaim> _claims = [];
    private readonly HashSet<TopicPartition> _fencedPartitions = [];
    private readonly Queue<ConsumedMessage> _overflow = new();
    private readonly Dictionary<string, Prometheus.Counter.Child> _consumedByTopic = [];
    private readonly HashSet<(string Topic, int Partition)> _lagSeries = [];
    private IConsumer<byte[]?, byte[]?>? _consumer;
    private bool _paused;
    private bool _assignmentChanged;
    private CancellationToken _claimCancellation;

    // Writer-to-consumer hand-offs: many producers (writers), one consumer (this thread).
    private readonly ConcurrentQueue<(PartitionClaim Claim, long NextOffset)> _committed = new();
    private readonly ConcurrentQueue<PartitionClaim> _fenced = new();

    private volatile int _assignedCount;

    private static readonly TimeSpan RepeatedLogInterval = TimeSpan.FromSeconds(10);
    private readonly RepeatedLogLimiter _repeatedLogs = new(RepeatedLogInterval);

    public IngestConsumer(IngestOptions options, OffsetStore offsets, RetryPolicy retry, IReadOnlyList<ChannelWriter<ConsumedMessage>> lanes,
        BufferBudget budget, IngestMetrics metrics, ILogger logger)
    {
        _options = options;
        _offsets = offsets;
        _retry = retry;
        _lanes = lanes;
        _budget = budget;
        _metrics = metrics;
        _logger = logger;
        // Recorded in ingest_offsets.owner_id so an operator can tell which process holds a partition.
        _ownerId = $"{KafkaClientConfig.ClientId()}-{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>Partitions currently claimed by this process (readiness).</summary>
    public int AssignedPartitions => _assignedCount;

    public void Committed(PartitionClaim claim, long nextOffset) => _committed.Enqueue((claim, nextOffset));

    public void Fenced(PartitionClaim claim) => _fenced.Enqueue(claim);

    /// <summary>
    /// Consumes until <paramref name="stop"/>; then completes the lane channels, keeps serving the
    /// group (paused) until <paramref name="lanesDrained"/> finishes or <paramref name="hardStop"/>
    /// fires, stores the last committed offsets and closes the consumer.
    /// </summary>
    public void Run(CancellationToken stop, Task lanesDrained, CancellationToken hardStop)
    {
        _claimCancellation = hardStop;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(KafkaClientConfig.Consumer(_options, KafkaClientConfig.ClientId()))
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions, lost: false))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions, lost: true))
            .SetStatisticsHandler((_, json) => OnStatistics(json))
            .SetErrorHandler((_, error) => OnError(error))
            .SetLogHandler((_, log) => OnLog(log))
            .Build();
        _consumer = consumer;
        try
        {
            consumer.Subscribe([_options.UsageTopic, _options.HeartbeatTopic]);
            _logger.LogInformation("Consuming {UsageTopic} and {HeartbeatTopic} as group {Group} ({Protocol} protocol), owner {Owner}",
                _options.UsageTopic, _options.HeartbeatTopic, _options.ConsumerGroup, _options.GroupProtocol, _ownerId);
            ConsumeUntil(stop);
        }
        finally
        {
            foreach (var lane in _lanes) lane.TryComplete();
            Drain(lanesDrained, hardStop);
            Close(consumer);
            _consumer = null;
        }
    }

    private void ConsumeUntil(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ApplyWriterFeedback();

            if (_overflow.Count > 0 && !DrainOverflow())
            {
                // Still full: keep the group session alive and callbacks served, fetch nothing new.
                EnsurePaused();
                Poll(keep: true);
                continue;
            }
            if (_paused && _budget.IsBelowResumeMark) Resume();

            Poll(keep: true);
        }
    }

    /// <summary>One Consume call; a message is routed (or parked in the overflow while the buffer is full).</summary>
    private void Poll(bool keep)
    {
        ConsumeResult<byte[]?, byte[]?>? result;
        try
        {
            result = _consumer!.Consume(PollInterval);
        }
        catch (ConsumeException ex)
        {
            _metrics.KafkaErrors.WithLabels("consume").Inc();
            _logger.LogWarning("Consume error on {Partition}: {Reason}", ex.ConsumerRecord?.TopicPartitionOffset?.ToString() ?? "-", ex.Error.Reason);
            return;
        }
        if (_assignmentChanged)
        {
            _assignmentChanged = false;
            // Partitions assigned while paused start fetching; pause them like the rest.
            if (_paused) _consumer!.Pause(_consumer.Assignment);
        }
        if (result is null || result.Message is null || !keep) return;

        if (!_claims.TryGetValue(result.TopicPartition, out var claim) || !claim.IsCurrent) return;
        var message = new ConsumedMessage(claim, result.Offset.Value, result.Message.Key, result.Message.Value,
            result.Message.Timestamp.Type == TimestampType.NotAvailable ? DateTime.UtcNow : result.Message.Timestamp.UtcDateTime);
        CountConsumed(result.Topic);

        if (_overflow.Count > 0 || !TryHandOff(message))
        {
            _overflow.Enqueue(message);
            EnsurePaused();
        }
    }

    private bool TryHandOff(ConsumedMessage message)
    {
        if (!_budget.TryReserve(message.BufferedBytes)) return false;
        if (_lanes[message.Claim.Lane].TryWrite(message)) return true;
        _budget.Release(message.BufferedBytes);
        return false;
    }

    /// <summary>Moves parked messages on in order; false while the buffer is still full.</summary>
    private bool DrainOverflow()
    {
        while (_overflow.TryPeek(out var message))
        {
            if (message.Claim.IsCurrent && !TryHandOff(message)) return false;
            _overflow.Dequeue();
        }
        return true;
    }

    private void EnsurePaused()
    {
        if (_paused) return;
        _consumer!.Pause(_consumer.Assignment);
        _paused = true;
        _metrics.ConsumerPaused.Set(1);
        _logger.LogDebug("Buffer full ({Messages} messages, {Bytes} bytes): consumption paused", _budget.Messages, _budget.Bytes);
    }

    private void Resume()
    {
        var resumable = _consumer!.Assignment.Where(tp => !_fencedPartitions.Contains(tp)).ToList();
        _consumer.Resume(resumable);
        _paused = false;
        _metrics.ConsumerPaused.Set(0);
        _logger.LogDebug("Buffer at {Messages} messages: consumption resumed", _budget.Messages);
    }

    private void ApplyWriterFeedback()
    {
        while (_fenced.TryDequeue(out var claim))
        {
            if (!_claims.TryGetValue(claim.Partition, out var current) || current != claim) continue;
            // Someone else claimed it: stop fetching it, but keep it assigned until Kafka says otherwise;
            // re-claiming would only steal it back from the owner the group chose.
            _fencedPartitions.Add(claim.Partition);
            _consumer!.Pause([claim.Partition]);
        }
        while (_committed.TryDequeue(out var item))
        {
            if (!_claims.TryGetValue(item.Claim.Partition, out var current) || current != item.Claim) continue;
            try
            {
                _consumer!.StoreOffset(new TopicPartitionOffset(item.Claim.Partition, item.NextOffset));
            }
            catch (KafkaException ex)
            {
                // Only a copy for lag tooling; the database holds the real position.
                _logger.LogDebug("Could not store offset {Offset} for {Partition} in Kafka: {Reason}", item.NextOffset, item.Claim.Partition, ex.Error.Reason);
            }
        }
    }

    private List<TopicPartitionOffset> OnAssigned(List<TopicPartition> partitions)
    {
        var starts = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var tp in partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Value))
        {
            var kind = tp.Topic == _options.UsageTopic ? MessageKind.Usage : MessageKind.Heartbeat;
            // Blocking here is intended: the partition must not be fetched before we own it in the database.
            var claimed = _retry.RunAsync("claim_partitions",
                ct => _offsets.ClaimAsync(tp.Topic, tp.Partition.Value, _ownerId, ct), _claimCancellation).GetAwaiter().GetResult();
            var claim = new PartitionClaim(tp, kind, claimed.Epoch, claimed.NextOffset, LaneOf(tp, kind));
            if (_claims.TryGetValue(tp, out var previous)) previous.Release();
            _claims[tp] = claim;
            _fencedPartitions.Remove(tp);
            starts.Add(new TopicPartitionOffset(tp, new Offset(claimed.NextOffset)));
        }
        _assignmentChanged = true;
        _assignedCount = _claims.Count;
        _metrics.AssignedPartitions.Set(_claims.Count);
        // Cooperative rebalances also call this with nothing new for members that keep what they have.
        _logger.Log(partitions.Count > 0 ? LogLevel.Information : LogLevel.Debug, "Assigned {Count} partition(s): {Partitions}; now own {Total}",
            partitions.Count, string.Join(", ", starts.Select(s => $"{s.Topic}[{s.Partition.Value}]@{s.Offset.Value}")), _claims.Count);
        return starts;
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions, bool lost)
    {
        foreach (var tpo in partitions)
        {
            if (_claims.Remove(tpo.TopicPartition, out var claim)) claim.Release();
            _fencedPartitions.Remove(tpo.TopicPartition);
            if (_lagSeries.Remove((tpo.Topic, tpo.Partition.Value)))
                _metrics.ConsumerLag.RemoveLabelled(tpo.Topic, tpo.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        _assignedCount = _claims.Count;
        _metrics.AssignedPartitions.Set(_claims.Count);
        var level = lost ? LogLevel.Warning : LogLevel.Information;
        _logger.Log(level, "{What} {Count} partition(s): {Partitions}; their buffered, uncommitted messages are dropped; now own {Total}",
            lost ? "Lost" : "Revoked", partitions.Count, string.Join(", ", partitions.Select(p => $"{p.Topic}[{p.Partition.Value}]")), _claims.Count);
    }

    private void OnStatistics(string json)
    {
        try
        {
            foreach (var lag in ConsumerLagStatistics.Parse(json))
            {
                var tp = new TopicPartition(lag.Topic, lag.Partition);
                if (!_claims.ContainsKey(tp)) continue;
                _metrics.ConsumerLag.WithLabels(lag.Topic, lag.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(lag.Lag);
                _lagSeries.Add((lag.Topic, lag.Partition));
            }
        }
        catch (System.Text.Json.JsonException ex)
        {
            _logger.LogDebug("Unreadable librdkafka statistics: {Error}", ex.Message);
        }
    }

    private void OnError(Error error)
    {
        _metrics.KafkaErrors.WithLabels("client").Inc();
        // librdkafka reconnects by itself; only fatal errors end the consumer (Consume throws then).
        var heldBack = 0;
        if (!error.IsFatal && !_repeatedLogs.ShouldLog("error:" + error.Code, out heldBack)) return;
        _logger.Log(error.IsFatal ? LogLevel.Error : LogLevel.Warning, "Kafka: {Reason} ({Code}){HeldBack}",
            error.Reason, error.Code, HeldBackNote(heldBack));
    }

    private void OnLog(LogMessage log)
    {
        var level = log.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        var heldBack = 0;
        if (level >= LogLevel.Warning && !_repeatedLogs.ShouldLog("log:" + log.Facility, out heldBack)) return;
        _logger.Log(level, "librdkafka {Facility}: {Message}{HeldBack}", log.Facility, log.Message, HeldBackNote(heldBack));
    }

    private static string HeldBackNote(int heldBack) =>
        heldBack == 0 ? "" : $" ({heldBack} more like it in the last {RepeatedLogInterval.TotalSeconds:0} s not logged)";

    private void Drain(Task lanesDrained, CancellationToken hardStop)
    {
        // Nothing new is read now; the lanes flush what they hold. Consume keeps the group alive meanwhile.
        try
        {
            if (_consumer!.Assignment.Count > 0) _consumer.Pause(_consumer.Assignment);
            _paused = true;
            while (!lanesDrained.IsCompleted && !hardStop.IsCancellationRequested)
            {
                ApplyWriterFeedback();
                Poll(keep: false);
            }
            ApplyWriterFeedback();
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning("Kafka error while draining: {Reason}", ex.Error.Reason);
        }
    }

    private void Close(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_NoOffset)
        {
        }
        catch (KafkaException ex)
        {
            _logger.LogDebug("Final Kafka offset commit failed: {Reason} (the database holds the offsets)", ex.Error.Reason);
        }
        try
        {
            consumer.Close();
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning("Leaving the consumer group failed: {Reason}", ex.Error.Reason);
        }
        foreach (var claim in _claims.Values) claim.Release();
        _claims.Clear();
        _assignedCount = 0;
        _metrics.AssignedPartitions.Set(0);
    }

    private int LaneOf(TopicPartition tp, MessageKind kind) =>
        (tp.Partition.Value + (kind == MessageKind.Heartbeat ? 1 : 0)) % _lanes.Count;

    private void CountConsumed(string topic)
    {
        if (!_consumedByTopic.TryGetValue(topic, out var counter))
            _consumedByTopic[topic] = counter = _metrics.MessagesConsumed.WithLabels(topic);
        counter.Inc();
        _metrics.Totals.AddMessages(1);
    }
}
