namespace Pipeline.Ingest.Decoding;

/// <summary>
/// One validated agent heartbeat. <see cref="Time"/> is UTC truncated to microseconds (see
/// <see cref="UsageSample"/>); <see cref="Status"/> is one of <see cref="HeartbeatStatus"/>'s values.
/// </summary>
public readonly record struct HeartbeatSample(
    DateTimeOffset Time,
    string GpuId,
    string ProviderId,
    string Status,
    string AgentVersion,
    string DriverVersion,
    long? UptimeS);

/// <summary>The statuses an agent may report; the same strings the gpu_state check constraint allows.</summary>
public static class HeartbeatStatus
{
    public const string Healthy = "healthy";
    public const string Degraded = "degraded";
    public const string Unhealthy = "unhealthy";
}
