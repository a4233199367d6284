namespace Pipeline.Ingest.Simulation;

/// <summary>A GPU model's numbers as agents report them (nvidia-smi style).</summary>
internal sealed record GpuModel(string Name, long MemoryTotalMib, int IdlePowerW, int MaxPowerW, int MaxSmClockMhz, int MemClockMhz, bool HasEcc, string DriverVersion);

/// <summary>How a provider's agent writes its messages; the protocol allows each of these.</summary>
internal enum AgentFlavour
{
    /// <summary>RFC 3339 in UTC with 'Z', no extra fields.</summary>
    Rfc3339Utc,
    /// <summary>RFC 3339 with the data centre's local offset, plus fields the pipeline does not know.</summary>
    Rfc3339LocalWithExtras,
    /// <summary>Unix epoch milliseconds, optional fields sent as null when unknown.</summary>
    EpochMilliseconds,
}

/// <summary>One simulated GPU and the slowly drifting state its samples are drawn from.</summary>
internal sealed class SimulatedGpu(string id, string providerId, GpuModel model, AgentFlavour flavour, TimeSpan localOffset, string agentVersion, long bootUptimeS)
{
    public string Id { get; } = id;
    public string ProviderId { get; } = providerId;
    public GpuModel Model { get; } = model;
    public AgentFlavour Flavour { get; } = flavour;
    public TimeSpan LocalOffset { get; } = localOffset;
    public string AgentVersion { get; } = agentVersion;
    public long BootUptimeS { get; } = bootUptimeS;
    public string Hostname { get; } = $"{id}.{providerId}.internal";

    /// <summary>Index of the next sample; its time is plan start + index * interval.</summary>
    public long NextSample;
    public DateTimeOffset? LastHeartbeat;

    // Values in tenths, so every number written has one decimal and decodes to exactly the expected float.
    public int UtilizationTenths;
    public int TargetUtilizationTenths;
    public long MemoryUsedMib;
    public long EccErrors;
}
