namespace Pipeline.Inventory.Usage;

/// <summary>Samples of one GPU aggregated into time_bucket(width, time) buckets; empty buckets are left out.</summary>
public sealed record UsageView(string GpuId, DateTime From, DateTime To, double WidthSeconds, IReadOnlyList<UsageBucket> Buckets);

public sealed record UsageBucket(
    DateTime Time,
    long Samples,
    double AvgUtilizationPct,
    double MaxUtilizationPct,
    double AvgMemoryUsedMib,
    long MaxMemoryUsedMib,
    double AvgTemperatureC,
    double MaxTemperatureC,
    double AvgPowerW,
    double MaxPowerW);
