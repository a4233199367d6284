namespace Pipeline.Ingest.Simulation;

/// <summary>What a simulated fleet of GPU agents looks like; <see cref="AgentSimulator"/> turns it into messages.</summary>
public sealed record SimulationPlan
{
    public int Gpus { get; init; } = 100;

    /// <summary>GPUs are spread round-robin over this many providers; each provider runs one agent flavour (timestamp format, extra fields).</summary>
    public int Providers { get; init; } = 4;

    /// <summary>Samples per usage message; 1 sends bare objects, more send arrays as batching agents do.</summary>
    public int SamplesPerMessage { get; init; } = 10;

    /// <summary>Time between two samples of one GPU; timestamps are whole microseconds.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Timestamp of every GPU's first sample.</summary>
    public required DateTimeOffset Start { get; init; }

    /// <summary>Sample time between two heartbeats of one GPU.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Share of new messages that are broken, one way or another (each way a rejection rule).</summary>
    public double InvalidFraction { get; init; }

    /// <summary>Share of messages that are an agent's retry: an exact copy of a recent valid message.</summary>
    public double DuplicateFraction { get; init; }

    public int Seed { get; init; } = 1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Gpus, 1, nameof(Gpus));
        ArgumentOutOfRangeException.ThrowIfLessThan(Providers, 1, nameof(Providers));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Providers, Gpus, nameof(Providers));
        ArgumentOutOfRangeException.ThrowIfLessThan(SamplesPerMessage, 1, nameof(SamplesPerMessage));
        ArgumentOutOfRangeException.ThrowIfLessThan(SampleInterval, TimeSpan.FromMicroseconds(1), nameof(SampleInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(HeartbeatInterval, TimeSpan.Zero, nameof(HeartbeatInterval));
        if (InvalidFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(InvalidFraction), InvalidFraction, "must be within 0..1");
        if (DuplicateFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(DuplicateFraction), DuplicateFraction, "must be within 0..1 (exclusive)");
    }
}
