namespace Pipeline.Ingest.Tests.Faults;

/// <summary>
/// The fault scenarios run one at a time: each drives a broker, one or two ingest processes and
/// agents on a 2-core machine, and running them side by side only makes each slower.
/// </summary>
[CollectionDefinition(Name)]
public sealed class IngestFaultsCollection
{
    public const string Name = "ingest faults (real processes)";
}
