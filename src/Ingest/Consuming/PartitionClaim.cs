using Confluent.Kafka;

namespace Pipeline.Ingest.Consuming;

/// <summary>What a topic carries, and so which decoder and table its messages go to.</summary>
public enum MessageKind { Usage, Heartbeat }

/// <summary>
/// This process's ownership of one partition for one assignment, as recorded in ingest_offsets:
/// <see cref="Epoch"/> is the owner_epoch the claim set, and every batch commits only while it is
/// still current. A new assignment of the same partition makes a new claim, so work read under an
/// old one is recognisable and dropped.
/// </summary>
public sealed class PartitionClaim(TopicPartition partition, MessageKind kind, long epoch, long startOffset, int lane)
{
    private const int Active = 0, Released = 1, Fenced = 2;

    // Written by the consumer thread (release on revoke/lost) and by writers (fenced); read by batchers.
    private volatile int _state = Active;

    public TopicPartition Partition { get; } = partition;
    public MessageKind Kind { get; } = kind;
    public long Epoch { get; } = epoch;

    /// <summary>next_offset from the database at claim time: where consumption of this partition starts.</summary>
    public long StartOffset { get; } = startOffset;

    /// <summary>The writer lane (channel, batcher, connection) that handles this partition, so its messages stay in order.</summary>
    public int Lane { get; } = lane;

    /// <summary>False once the partition was revoked, lost, or claimed by someone else: its buffered messages are dropped.</summary>
    public bool IsCurrent => _state == Active;

    public bool IsFenced => _state == Fenced;

    internal void Release() => Interlocked.CompareExchange(ref _state, Released, Active);

    internal void MarkFenced() => _state = Fenced;

    public override string ToString() => $"{Partition.Topic}[{Partition.Partition.Value}]@epoch{Epoch}";
}

/// <summary>
/// One Kafka message on its way from the consumer thread to a writer lane. The value is kept as
/// received (null for a tombstone) so that a rejected message is quarantined byte for byte.
/// </summary>
public sealed class ConsumedMessage(PartitionClaim claim, long offset, byte[]? key, byte[]? value, DateTime timestampUtc)
{
    /// <summary>Accounting overhead per buffered message (object headers, references), on top of key and value bytes.</summary>
    public const int OverheadBytes = 96;

    public PartitionClaim Claim { get; } = claim;
    public long Offset { get; } = offset;
    public byte[]? Key { get; } = key;
    public byte[]? Value { get; } = value;

    /// <summary>The Kafka message timestamp (producer create time, or log append time), for end-to-end latency.</summary>
    public DateTime TimestampUtc { get; } = timestampUtc;

    public int BufferedBytes => OverheadBytes + (Key?.Length ?? 0) + (Value?.Length ?? 0);
}
