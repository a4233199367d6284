using Pipeline.TestSupport;
using Xunit.Abstractions;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>
/// PostgreSQL goes away under a running ingest (a private cluster, so nobody else notices): the
/// ingest must wait it out, resume by itself, and still land every message exactly once.
/// </summary>
[Collection(IngestFaultsCollection.Name)]
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Database_restarted_and_crashed_mid_stream_ingest_recovers_by_itself_without_loss_or_duplicates()
    {
        await using var postgres = await ThrowawayPostgresCluster.StartNewAsync();
        await using var rig = new IngestRig(output, postgres.ConnectionString, databaseDiagnostics: () => postgres.LogTail());
        await rig.Load.ProduceAsync(300);
        var ingest = rig.StartIngest();
        var producing = rig.Load.ProduceAsync(2000, messagesPerSecond: 250);

        var reached = await rig.WaitForUsageRowsAsync(rig.Load.UsageRowsProduced / 4);
        await postgres.StopAsync();
        rig.Note($"postgresql stopped (fast shutdown) at {reached} usage rows");
        await postgres.StartAsync();
        rig.Note("postgresql started");

        reached = await rig.WaitForUsageRowsAsync(reached + 8_000);
        await postgres.KillAsync();
        rig.Note($"postgresql killed (SIGKILL to every server process) at {reached} usage rows");
        await postgres.StartAsync();
        rig.Note("postgresql started after crash recovery");

        await producing;
        await rig.AssertExactLandingAsync();
        Assert.False(ingest.HasExited, "the ingest gave up instead of waiting for the database\n" + rig.Diagnostics());

        ingest.SignalTerm();
        await rig.AssertExitCodeAsync(ingest, 0);
    }

    [Fact]
    public async Task Database_down_for_seconds_while_agents_keep_producing_then_everything_lands_once()
    {
        await using var postgres = await ThrowawayPostgresCluster.StartNewAsync();
        await using var rig = new IngestRig(output, postgres.ConnectionString, databaseDiagnostics: () => postgres.LogTail());
        await rig.Load.ProduceAsync(300);
        var ingest = rig.StartIngest();
        var producing = rig.Load.ProduceAsync(2000, messagesPerSecond: 250);

        var reached = await rig.WaitForUsageRowsAsync(rig.Load.UsageRowsProduced / 4);
        await postgres.StopAsync();
        var producedWhenDown = rig.Load.UsageRowsProduced;
        rig.Note($"postgresql stopped at {reached} usage rows");
        // Long enough for several retries with backoff and a backlog to build in the broker.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(ingest.HasExited, "the ingest exited while the database was down\n" + rig.Diagnostics());
        Assert.True(rig.Load.UsageRowsProduced > producedWhenDown, "the agents kept producing during the outage");
        await postgres.StartAsync();
        rig.Note("postgresql started");

        await producing;
        await rig.AssertExactLandingAsync();
        Assert.False(ingest.HasExited, ingest.OutputTail());
    }

    [Fact]
    public async Task Sigterm_while_the_database_is_down_exits_within_the_shutdown_timeout_and_a_restart_lands_everything_once()
    {
        await using var postgres = await ThrowawayPostgresCluster.StartNewAsync();
        await using var rig = new IngestRig(output, postgres.ConnectionString, databaseDiagnostics: () => postgres.LogTail());
        await rig.Load.ProduceAsync(300);
        var first = rig.StartIngest("--Ingest:ShutdownTimeout=5s");
        var producing = rig.Load.ProduceAsync(1500, messagesPerSecond: 250);

        var reached = await rig.WaitForUsageRowsAsync(rig.Load.UsageRowsProduced / 4);
        await postgres.StopAsync();
        rig.Note($"postgresql stopped at {reached} usage rows");
        first.SignalTerm();
        rig.Note("SIGTERM while the database is down");
        // Buffered batches cannot be flushed: the drain gives up after Ingest:ShutdownTimeout
        // (exit 1, documented) instead of waiting for the database forever; a crash would be 134 or 139.
        var code = await first.WaitForExitAsync(IngestRig.Patience);
        rig.Note($"exited with {code}");
        Assert.True(code is 0 or 1, $"exit code {code}\n{rig.Diagnostics()}");

        await postgres.StartAsync();
        rig.Note("postgresql started");
        await rig.AssertRowsMatchStoredOffsetsAsync("after the stop that could not drain");
        rig.StartIngest();
        await producing;
        await rig.AssertExactLandingAsync();
    }
}
