using Pipeline.TestSupport;
using Xunit.Abstractions;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>SIGTERM, as an orchestrator sends it before a redeploy: drain, flush, commit, exit 0.</summary>
[Collection(IngestFaultsCollection.Name)]
public sealed class GracefulShutdownTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Sigterm_mid_stream_commits_what_was_consumed_exits_0_and_a_restart_finishes_exactly_once()
    {
        await using var rig = new IngestRig(output, _database.ConnectionString);
        await rig.Load.ProduceAsync(800);
        var first = rig.StartIngest();
        var producing = rig.Load.ProduceAsync(1500, messagesPerSecond: 150);

        var reached = await rig.WaitForUsageRowsAsync(rig.Load.UsageRowsProduced / 3);
        first.SignalTerm();
        rig.Note($"SIGTERM at {reached} usage rows");
        await rig.AssertExitCodeAsync(first, 0);

        // Drained and committed: the database is a clean prefix at least as far as it was, and
        // Kafka's copy of the offsets (for lag tooling) says the same.
        var committedRows = await rig.AssertRowsMatchStoredOffsetsAsync("after SIGTERM");
        Assert.True(committedRows >= reached, $"{committedRows} rows after shutdown, {reached} before it");
        await AssertKafkaOffsetsEqualStoredAsync(rig, "after SIGTERM");

        var second = rig.StartIngest();
        await producing;
        // More messages after the restart: the second process has to be up and consuming (not
        // still starting) when it gets its SIGTERM below.
        await rig.Load.ProduceAsync(200);
        await rig.AssertExactLandingAsync();

        second.SignalTerm();
        await rig.AssertExitCodeAsync(second, 0);
        await rig.AssertExactLandingAsync();
        await AssertKafkaOffsetsEqualStoredAsync(rig, "after the second SIGTERM");
    }

    private static async Task AssertKafkaOffsetsEqualStoredAsync(IngestRig rig, string moment)
    {
        var stored = (await IngestAudit.StoredOffsetsAsync(rig.ConnectionString, rig.UsageTopic, rig.HeartbeatTopic))
            .Where(s => s.Value > 0).ToDictionary();
        var kafka = rig.KafkaCommittedOffsets();
        var wrong = stored
            .Where(s => kafka.GetValueOrDefault(s.Key, -1) != s.Value)
            .Select(s => $"{s.Key.Topic}[{s.Key.Partition}] database {s.Value}, Kafka {kafka.GetValueOrDefault(s.Key, -1)}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{moment}: Kafka's committed offsets differ from the stored ones:\n  {string.Join("\n  ", wrong)}\n{rig.Diagnostics()}");
    }
}
