using Pipeline.TestSupport;
using Xunit.Abstractions;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>kill -9 gives the ingest no chance to flush or commit: a restart must still land every message once.</summary>
[Collection(IngestFaultsCollection.Name)]
public sealed class KillNineTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Kill_9_at_four_points_of_the_stream_then_restart_loses_and_duplicates_nothing()
    {
        await using var rig = new IngestRig(output, _database.ConnectionString);
        const int backlog = 600, streamed = 1800;
        var plannedRows = (backlog + streamed) * rig.Load.Shape.SamplesPerMessage * 59 / 60;
        // A backlog first, so the first kill hits full batches in flight; then a steady stream the
        // later kills interrupt.
        await rig.Load.ProduceAsync(backlog);
        var ingest = rig.StartIngest();
        var producing = rig.Load.ProduceAsync(streamed, messagesPerSecond: 300);

        foreach (var fraction in new[] { 0.1, 0.3, 0.55, 0.8 })
        {
            var reached = await rig.WaitForUsageRowsAsync((long)(plannedRows * fraction));
            await ingest.KillAsync();
            rig.Note($"kill -9 at {reached} usage rows");
            // Whatever the moment, the committed state is a clean prefix of every partition.
            await rig.AssertRowsMatchStoredOffsetsAsync($"after kill -9 at {reached} rows");
            ingest = rig.StartIngest();
        }

        await producing;
        await rig.AssertExactLandingAsync();
        Assert.False(ingest.HasExited, ingest.OutputTail());
    }
}
