using System.Globalization;
using System.Text.RegularExpressions;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>The real `pipeline ingest` process: settings checked at start-up, SIGTERM drains what it holds.</summary>
public sealed partial class IngestProcessTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Sigterm_flushes_the_batch_still_being_filled_commits_it_and_exits_0()
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await world.Load.ProduceAsync(200);
        // Batches that never fill or age: only the shutdown drain can write them.
        await using var ingest = PipelineProcess.Start(
        [
            "ingest",
            $"--Database:ConnectionString={_database.ConnectionString}",
            $"--Kafka:BootstrapServers={world.Broker.BootstrapServers}",
            $"--Ingest:UsageTopic={world.UsageTopic}",
            $"--Ingest:HeartbeatTopic={world.HeartbeatTopic}",
            $"--Ingest:ConsumerGroup={world.ConsumerGroup}",
            "--Ingest:MetricsPort=0",
            "--Ingest:BatchMaxRows=1000000",
            "--Ingest:BatchMaxAge=10m",
            "--Ingest:ShutdownTimeout=30s",
            "--Kafka:GroupProtocol=consumer",
        ]);
        var line = await ingest.WaitForLineAsync(l => MetricsAddress().IsMatch(l), InProcessIngest.Patience);
        var port = int.Parse(MetricsAddress().Match(line).Groups[1].Value, CultureInfo.InvariantCulture);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var deadline = DateTime.UtcNow + InProcessIngest.Patience;
        while (ConsumedOf(await http.GetStringAsync("/metrics")) < world.Load.MessagesProduced)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("the process never consumed everything\n" + ingest.OutputTail());
            await Task.Delay(100);
        }
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage"));

        ingest.SignalTerm();
        Assert.Equal(0, await ingest.WaitForExitAsync(InProcessIngest.Patience));
        var differences = await IngestAudit.DifferencesAsync(_database.ConnectionString, world.Load.Expected);
        Assert.True(differences.Count == 0, IngestAudit.Describe(differences) + "\n" + ingest.OutputTail());
    }

    [Fact]
    public async Task A_missing_bootstrap_server_setting_stops_the_process_before_it_starts_and_names_the_key()
    {
        await using var ingest = PipelineProcess.Start(["ingest", $"--Database:ConnectionString={_database.ConnectionString}"]);
        Assert.Equal(3, await ingest.WaitForExitAsync(InProcessIngest.Patience));
        Assert.Contains("Kafka:BootstrapServers", ingest.Output);
    }

    private static double ConsumedOf(string metrics) =>
        metrics.Split('\n')
            .Where(l => l.StartsWith("ingest_messages_consumed_total{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    [GeneratedRegex(@"http://0\.0\.0\.0:(\d+)/metrics")]
    private static partial Regex MetricsAddress();
}
