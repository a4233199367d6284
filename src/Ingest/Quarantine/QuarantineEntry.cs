using Pipeline.Ingest.Consuming;

namespace Pipeline.Ingest.Quarantine;

/// <summary>
/// One rejected message, or one rejected element of an array message, as a quarantine row.
/// <see cref="RawValue"/> is the whole message value exactly as received (shared by reference
/// between the rows of one message), so the agent's output can be replayed or inspected.
/// </summary>
public sealed record QuarantineEntry(
    MessageKind Kind,
    string Topic,
    int Partition,
    long Offset,
    int? ElementIndex,
    byte[]? Key,
    byte[]? RawValue,
    string Reason,
    string Detail);
