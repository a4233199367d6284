using Pipeline.Ingest.Decoding;

namespace Pipeline.Ingest.Simulation;

public enum AgentTopic
{
    Usage,
    Heartbeat,
}

/// <summary>A rejection the decoder must report for a simulated message (detail text is not predicted).</summary>
public readonly record struct ExpectedRejection(int? ElementIndex, string Reason);

/// <summary>
/// One message as an agent would send it, with what decoding it must yield: the samples it
/// carries and the rejections it must cause. A retry carries the same bytes and samples as its
/// original, so the samples it yields are duplicates and must not become second rows.
/// </summary>
/// <param name="Key">The GPU id, the message key.</param>
/// <param name="SampleSlots">Usage samples the message was generated with, valid or not (heartbeat messages: 0).</param>
public sealed record SimulatedMessage(
    AgentTopic Topic,
    string Key,
    byte[] Value,
    IReadOnlyList<UsageSample> Usage,
    IReadOnlyList<HeartbeatSample> Heartbeats,
    IReadOnlyList<ExpectedRejection> Rejections,
    int SampleSlots,
    bool IsRetry)
{
    public bool IsInvalid => Rejections.Count > 0;
}
