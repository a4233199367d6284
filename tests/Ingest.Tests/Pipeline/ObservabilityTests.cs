using System.Net;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>What operators see: the metrics the issue names, liveness and readiness, over real HTTP.</summary>
public sealed class ObservabilityTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    public static readonly string[] IssueMetrics =
    [
        "ingest_messages_consumed_total",      // messages consumed
        "ingest_samples_written_total",        // samples written
        "ingest_samples_rejected_total",       // samples rejected by reason
        "ingest_duplicates_skipped_total",     // duplicates skipped
        "ingest_batch_rows_bucket",            // batch size histogram
        "ingest_flush_duration_seconds_bucket", // flush duration histogram
        "ingest_channel_depth_messages",       // channel depth
        "ingest_consumer_lag_messages",        // consumer lag per partition
        "ingest_end_to_end_latency_seconds_bucket", // message timestamp to commit
        "ingest_database_errors_total",        // database errors
        "ingest_kafka_errors_total",           // Kafka errors
        "ingest_retries_total",                // retries
    ];

    [Fact]
    public async Task Metrics_endpoint_exposes_every_metric_the_issue_names_and_health_endpoints_answer()
    {
        using var world = new PipelineWorld(_database.ConnectionString);
        await world.Load.ProduceAsync(200);
        await using var ingest = InProcessIngest.Start(world.Options());
        await world.AssertExactLandingAsync(ingest);
        var port = await ingest.Service.MetricsPort.WaitAsync(InProcessIngest.Patience);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        // Lag per partition comes from librdkafka statistics; everything is committed, so it drains to 0.
        var deadline = DateTime.UtcNow + InProcessIngest.Patience;
        string text;
        while (true)
        {
            text = await http.GetStringAsync("/metrics");
            var lag = text.Split('\n').Where(l => l.StartsWith("ingest_consumer_lag_messages{", StringComparison.Ordinal)).ToList();
            if (lag.Count == 2 * PipelineWorld.Partitions && lag.All(l => l.EndsWith(" 0", StringComparison.Ordinal))) break;
            if (DateTime.UtcNow > deadline) Assert.Fail($"lag series never all 0:\n{string.Join('\n', lag)}\n{ingest.Log}");
            await Task.Delay(200);
        }

        var missing = IssueMetrics.Where(name => !text.Split('\n').Any(l => l.StartsWith(name, StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "missing from /metrics: " + string.Join(", ", missing));
        Assert.Contains($"ingest_consumer_lag_messages{{topic=\"{world.UsageTopic}\",partition=\"0\"}} 0", text);
        Assert.Contains("ingest_samples_rejected_total{table=\"gpu_usage\",reason=\"malformed_json\"}", text);
        Assert.True(await ingest.MetricAsync("ingest_end_to_end_latency_seconds_count") > 0);
        Assert.Equal(world.Load.MessagesProduced, await ingest.MetricAsync("ingest_end_to_end_latency_seconds_count"));

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(0, await ingest.StopAsync());
    }
}
