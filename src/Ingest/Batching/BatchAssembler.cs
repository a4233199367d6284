using Pipeline.Ingest.Consuming;
using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Quarantine;

namespace Pipeline.Ingest.Batching;

/// <summary>
/// Decodes one message at a time into a batch: accepted samples go to the table lists, each
/// rejection becomes a quarantine entry carrying the raw message. One per lane (decoders keep
/// per-instance caches and are not shared between threads).
/// </summary>
public sealed class BatchAssembler(ValidationRules rules)
{
    private readonly UsageDecoder _usage = new(rules);
    private readonly HeartbeatDecoder _heartbeats = new(rules);
    private readonly List<Rejection> _rejections = [];

    public void Add(IngestBatch batch, ConsumedMessage message)
    {
        _rejections.Clear();
        var value = message.Value is null ? ReadOnlySpan<byte>.Empty : message.Value.AsSpan();
        if (message.Claim.Kind == MessageKind.Usage)
            _usage.Decode(value, batch.Usage, _rejections);
        else
            _heartbeats.Decode(value, batch.Heartbeats, _rejections);

        if (_rejections.Count > 0)
        {
            var partition = message.Claim.Partition;
            foreach (var rejection in _rejections)
                batch.Quarantined.Add(new QuarantineEntry(message.Claim.Kind, partition.Topic, partition.Partition.Value, message.Offset,
                    rejection.ElementIndex, message.Key, message.Value, rejection.Reason, rejection.Detail));
            batch.QuarantinedBytes += message.Value?.Length ?? 0;
        }

        batch.Messages.Add(new MessageExtent(message.Claim, message.Offset, message.TimestampUtc,
            batch.Usage.Count, batch.Heartbeats.Count, batch.Quarantined.Count));
    }
}
