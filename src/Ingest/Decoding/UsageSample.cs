namespace Pipeline.Ingest.Decoding;

/// <summary>
/// One validated GPU usage sample, as the gpu_usage table stores it. <see cref="Time"/> is UTC
/// (offset zero, as Npgsql requires for timestamptz) and truncated to whole microseconds, the
/// resolution PostgreSQL keeps, so (GpuId, Time) compares the same here as in the unique index.
/// </summary>
public readonly record struct UsageSample(
    DateTimeOffset Time,
    string GpuId,
    string ProviderId,
    float UtilizationPct,
    long MemoryUsedMib,
    long MemoryTotalMib,
    float TemperatureC,
    float PowerW,
    int? SmClockMhz,
    int? MemClockMhz,
    long? EccErrors);
