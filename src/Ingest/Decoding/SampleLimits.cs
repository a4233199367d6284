namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Plausibility bounds for sample fields (docs/agent-protocol.md lists them). Wide enough for any
/// GPU sold today; their job is to stop garbage (a unit mix-up, an uninitialised counter) from
/// reaching dashboards, not to judge hardware.
/// </summary>
public static class SampleLimits
{
    /// <summary>gpu_id and provider_id: 1..128 bytes of UTF-8, no control characters.</summary>
    public const int MaxIdBytes = 128;

    /// <summary>agent_version and driver_version: 1..64 bytes of UTF-8, no control characters.</summary>
    public const int MaxVersionBytes = 64;

    public const double MinUtilizationPct = 0;
    public const double MaxUtilizationPct = 100;

    /// <summary>16 TiB; memory_total_mib must be at least 1, memory_used_mib at least 0.</summary>
    public const long MaxMemoryMib = 16L * 1024 * 1024;

    public const double MinTemperatureC = -50;
    public const double MaxTemperatureC = 150;

    public const double MinPowerW = 0;
    public const double MaxPowerW = 10_000;

    public const int MaxClockMhz = 100_000;
}
