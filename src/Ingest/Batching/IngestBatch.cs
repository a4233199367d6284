using Pipeline.Ingest.Consuming;
using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Quarantine;

namespace Pipeline.Ingest.Batching;

/// <summary>
/// Where one message's rows end in the batch lists (exclusive), so the rows of a partition that
/// was fenced can be cut out without decoding again.
/// </summary>
public readonly record struct MessageExtent(PartitionClaim Claim, long Offset, DateTime TimestampUtc, int UsageEnd, int HeartbeatEnd, int QuarantineEnd);

/// <summary>
/// The decoded content of consecutive messages from one lane, written in one transaction that
/// also advances each covered partition's offset. Owned by one thread at a time: the batcher
/// fills it, hands it to the lane's writer, and gets it back empty for reuse.
/// </summary>
public sealed class IngestBatch
{
    public List<UsageSample> Usage { get; } = [];
    public List<HeartbeatSample> Heartbeats { get; } = [];
    public List<QuarantineEntry> Quarantined { get; } = [];

    /// <summary>One entry per message, in consumption order (per-partition offsets ascend).</summary>
    public List<MessageExtent> Messages { get; } = [];

    /// <summary>Bytes of raw values referenced by quarantine rows (each message counted once).</summary>
    public long QuarantinedBytes { get; internal set; }

    public int Rows => Usage.Count + Heartbeats.Count + Quarantined.Count;

    public bool IsEmpty => Messages.Count == 0;

    /// <summary>The offset each covered partition resumes from once this batch commits: its last message + 1.</summary>
    public Dictionary<PartitionClaim, long> NextOffsets()
    {
        var next = new Dictionary<PartitionClaim, long>();
        foreach (var m in Messages) next[m.Claim] = m.Offset + 1;
        return next;
    }

    /// <summary>Removes every message (and its rows) whose claim matches; keeps the order of the rest.</summary>
    /// <returns>The number of messages removed.</returns>
    public int RemoveMessagesOf(Func<PartitionClaim, bool> drop)
    {
        int usageWrite = 0, heartbeatWrite = 0, quarantineWrite = 0, messageWrite = 0;
        int usageStart = 0, heartbeatStart = 0, quarantineStart = 0;
        long quarantinedBytes = 0;
        byte[]? lastCounted = null;
        for (var index = 0; index < Messages.Count; index++)
        {
            var m = Messages[index];
            if (!drop(m.Claim))
            {
                usageWrite = MoveRange(Usage, usageStart, m.UsageEnd, usageWrite);
                heartbeatWrite = MoveRange(Heartbeats, heartbeatStart, m.HeartbeatEnd, heartbeatWrite);
                for (var i = quarantineStart; i < m.QuarantineEnd; i++)
                {
                    var entry = Quarantined[i];
                    if (!ReferenceEquals(entry.RawValue, lastCounted)) quarantinedBytes += entry.RawValue?.Length ?? 0;
                    lastCounted = entry.RawValue;
                    Quarantined[quarantineWrite++] = entry;
                }
                Messages[messageWrite++] = m with { UsageEnd = usageWrite, HeartbeatEnd = heartbeatWrite, QuarantineEnd = quarantineWrite };
            }
            usageStart = m.UsageEnd;
            heartbeatStart = m.HeartbeatEnd;
            quarantineStart = m.QuarantineEnd;
        }
        var removed = Messages.Count - messageWrite;
        Usage.RemoveRange(usageWrite, Usage.Count - usageWrite);
        Heartbeats.RemoveRange(heartbeatWrite, Heartbeats.Count - heartbeatWrite);
        Quarantined.RemoveRange(quarantineWrite, Quarantined.Count - quarantineWrite);
        Messages.RemoveRange(messageWrite, Messages.Count - messageWrite);
        QuarantinedBytes = quarantinedBytes;
        return removed;
    }

    public void Clear()
    {
        Usage.Clear();
        Heartbeats.Clear();
        Quarantined.Clear();
        Messages.Clear();
        QuarantinedBytes = 0;
    }

    private static int MoveRange<T>(List<T> list, int start, int end, int write)
    {
        for (var i = start; i < end; i++) list[write++] = list[i];
        return write;
    }
}
