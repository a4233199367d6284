using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pipeline.Database.Partitions;
using Pipeline.Ingest.Batching;
using Pipeline.Ingest.Consuming;
using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Http;
using Pipeline.Ingest.Metrics;
using Pipeline.Ingest.Offsets;
using Pipeline.Ingest.Quarantine;
using Pipeline.Ingest.Resilience;
using Pipeline.Ingest.Writing;
using Prometheus;

namespace Pipeline.Ingest;

/// <summary>
/// The ingest, wired: Kafka consumer thread -> one bounded channel per lane -> batcher -> writer
/// (its own connection, binary COPY, offsets in the same transaction). Lanes own fixed partitions
/// so per-partition order holds with several writers. Also runs the HTTP endpoint, hourly
/// partition maintenance and the periodic summary line.
/// <para>
/// Memory stays bounded whatever the backlog, because a full buffer pauses every partition:
/// librdkafka's prefetch (queued.max.messages.kbytes, 32 MiB by default here, plus one fetch
/// response in flight) + the lane channels (at most Ingest:ChannelCapacity messages and
/// Ingest:ChannelMaxBytes of keys and values, plus one message larger than that) + per lane two
/// batches (each at most Ingest:BatchMaxRows decoded rows plus one message's samples, and 8 MiB of
/// quarantined raw values). Defaults: 32 + 64 MiB of messages and 2 lanes x 2 x 50,000 rows.
/// </para>
/// </summary>
public sealed class IngestService
{
    /// <summary>Batches per lane: one filling while one is written.</summary>
    public const int BatchesPerLane = 2;

    /// <summary>Days of partitions made ahead of time (as the partitions maintain command does).</summary>
    private const int PartitionDaysAhead = 7;

    private readonly IngestOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly RetryPolicy _retry;
    private readonly TaskCompletionSource<int> _metricsPort = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IngestConsumer? _consumer;
    private DateTime _lastDatabaseCheck;
    private bool _lastDatabaseOk;

    public IngestService(IngestOptions options, ILoggerFactory loggers, CollectorRegistry? registry = null, TimeProvider? clock = null)
    {
        _options = options;
        _loggers = loggers;
        _logger = loggers.CreateLogger("Pipeline.Ingest");
        _clock = clock ?? TimeProvider.System;
        Metrics = new IngestMetrics(registry);
        Metrics.RegisterTopics(options.UsageTopic, options.HeartbeatTopic);
        foreach (var reason in RejectionReason.All)
        {
            Metrics.SamplesRejected.WithLabels(IngestMetrics.UsageTable, reason);
            Metrics.SamplesRejected.WithLabels(IngestMetrics.HeartbeatTable, reason);
        }
        _retry = new RetryPolicy(options.RetryMaxDelay, Metrics, _logger);
    }

    public IngestMetrics Metrics { get; }

    /// <summary>Completes with the HTTP port once /metrics and /health/* listen.</summary>
    public Task<int> MetricsPort => _metricsPort.Task;

    /// <summary>Partitions this process owns right now.</summary>
    public int AssignedPartitions => _consumer?.AssignedPartitions ?? 0;

    /// <summary>
    /// Runs until <paramref name="stop"/> (SIGTERM), then drains: stops consuming, flushes and
    /// commits what is buffered, leaves the group. Returns the process exit code: 0 after a clean
    /// drain; 1 if the schema is missing, the drain missed Ingest:ShutdownTimeout (what was not
    /// committed is read again on restart), or a component failed.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        try
        {
            return await RunCoreAsync(stop);
        }
        finally
        {
            _metricsPort.TrySetCanceled();
        }
    }

    private async Task<int> RunCoreAsync(CancellationToken stop)
    {
        using var hardStopSource = new CancellationTokenSource();
        // The lanes get most of the shutdown budget; the rest is for leaving the group.
        await using var onStop = stop.Register(() => hardStopSource.CancelAfter(_options.ShutdownTimeout * 0.8));
        var hardStop = hardStopSource.Token;

        if (!await SchemaIsPresentAsync(stop)) return stop.IsCancellationRequested ? 0 : 1;

        await using var http = await IngestHttpEndpoint.StartAsync(_options.MetricsPort, Metrics.Registry, IsReadyAsync, stop);
        _metricsPort.TrySetResult(http.Port);
        _logger.LogInformation("Metrics and health on http://0.0.0.0:{Port}/metrics, /health/live, /health/ready", http.Port);

        await RunPartitionMaintenanceAsync(stop);
        if (stop.IsCancellationRequested) return 0;

        var budget = new BufferBudget(_options.ChannelCapacity, _options.ChannelMaxBytes);
        Metrics.Registry.AddBeforeCollectCallback(() =>
        {
            Metrics.ChannelDepth.Set(budget.Messages);
            Metrics.ChannelBytes.Set(budget.Bytes);
        });
        var rules = new ValidationRules(_options.MaxFutureSkew, _options.Retention, _options.MaxValueBytes, _clock);
        var offsets = new OffsetStore(_options.ConnectionString, _options.ConsumerGroup);
        using var deadLetters = _options.DeadLetterTopic is { } dlt
            ? new DeadLetterPublisher(KafkaClientConfig.DeadLetterProducer(_options, KafkaClientConfig.ClientId()), dlt, Metrics, _logger)
            : null;

        var laneInputs = new List<Channel<ConsumedMessage>>();
        var committers = new List<BatchCommitter>();
        for (var lane = 0; lane < _options.Writers; lane++)
        {
            laneInputs.Add(Channel.CreateBounded<ConsumedMessage>(new BoundedChannelOptions(_options.ChannelCapacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            }));
            committers.Add(new BatchCommitter(BatchCommitter.WriterConnectionString(_options.ConnectionString, lane), offsets));
        }
        var consumer = new IngestConsumer(_options, offsets, _retry, laneInputs.Select(c => c.Writer).ToList(), budget, Metrics,
            _loggers.CreateLogger("Pipeline.Ingest.Consumer"));
        _consumer = consumer;

        var laneTasks = new List<Task>();
        for (var lane = 0; lane < _options.Writers; lane++)
            laneTasks.Add(RunLaneAsync(lane, laneInputs[lane].Reader, budget, rules, committers[lane], consumer, deadLetters, hardStop));
        var lanesDrained = Task.WhenAll(laneTasks);

        // Any component ending early (a bug, a fatal Kafka error) shuts the others down too.
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var consumerThread = Task.Factory.StartNew(() => consumer.Run(failed.Token, lanesDrained, hardStop),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        using var background = CancellationTokenSource.CreateLinkedTokenSource(failed.Token);
        var maintenance = MaintainPartitionsPeriodicallyAsync(background.Token);
        var summary = LogSummariesAsync(budget, background.Token);

        var first = await Task.WhenAny(consumerThread, lanesDrained, Task.Delay(Timeout.Infinite, failed.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        var exitCode = 0;
        if (!stop.IsCancellationRequested)
        {
            _logger.LogError(first.Exception?.GetBaseException(), "A pipeline component stopped unexpectedly; shutting down");
            exitCode = 1;
            failed.Cancel();
            hardStopSource.CancelAfter(_options.ShutdownTimeout * 0.8);
        }
        else
        {
            _logger.LogInformation("Stopping: draining buffered messages (up to {Timeout})", _options.ShutdownTimeout);
        }

        await Task.WhenAll(Quietly(consumerThread), Quietly(lanesDrained));
        await background.CancelAsync();
        await Task.WhenAll(Quietly(maintenance), Quietly(summary));
        foreach (var committer in committers) await committer.DisposeAsync();

        if (consumerThread.IsFaulted)
        {
            _logger.LogError(consumerThread.Exception.GetBaseException(), "Kafka consumer failed");
            exitCode = 1;
        }
        if (!lanesDrained.IsCompletedSuccessfully)
        {
            _logger.LogWarning("Drain did not finish within {Timeout}: uncommitted messages will be read again from the stored offsets on restart",
                _options.ShutdownTimeout);
            exitCode = 1;
        }
        LogSummary(Metrics.Totals.Snapshot(), budget, "Stopped; totals since start");
        return exitCode;
    }

    private async Task RunLaneAsync(int lane, ChannelReader<ConsumedMessage> input, BufferBudget budget, ValidationRules rules,
        BatchCommitter committer, IngestConsumer consumer, DeadLetterPublisher? deadLetters, CancellationToken hardStop)
    {
        var pool = new BatchPool(BatchesPerLane);
        // Capacity one: the writer holds one batch, the next one waits here, no third exists (the pool).
        var full = Channel.CreateBounded<IngestBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        var batcher = new Batcher(input, budget, new BatchAssembler(rules), pool, full.Writer, _options.BatchMaxRows, _options.BatchMaxAge, _clock);
        var writer = new LaneWriter(lane, full.Reader, pool, committer, _retry, consumer, RunPartitionMaintenanceAsync, deadLetters, Metrics,
            _loggers.CreateLogger("Pipeline.Ingest.Writer"), _clock);
        await Task.Yield();
        await Task.WhenAll(batcher.RunAsync(hardStop), writer.RunAsync(hardStop));
    }

    private async Task<bool> SchemaIsPresentAsync(CancellationToken stop)
    {
        try
        {
            var present = await _retry.RunAsync("startup", async ct =>
            {
                await using var conn = new NpgsqlConnection(_options.ConnectionString);
                await conn.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand(
                    "SELECT to_regclass('ingest_offsets') IS NOT NULL AND to_regclass('gpu_usage') IS NOT NULL AND to_regclass('gpu_state') IS NOT NULL", conn);
                return (bool)(await cmd.ExecuteScalarAsync(ct))!;
            }, stop);
            if (!present) _logger.LogError("The database has no ingest schema: run 'pipeline migrate up' first");
            return present;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task RunPartitionMaintenanceAsync(CancellationToken cancellation)
    {
        try
        {
            await _retry.RunAsync("partition_maintenance", ct =>
                new PartitionMaintenance(_options.ConnectionString, _loggers.CreateLogger<PartitionMaintenance>())
                    .RunAsync(_options.Retention, PartitionDaysAhead, _clock.GetUtcNow(), ct), cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
    }

    private async Task MaintainPartitionsPeriodicallyAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(_options.PartitionMaintenanceInterval, _clock);
        while (await timer.WaitForNextTickAsync(cancellation))
            await RunPartitionMaintenanceAsync(cancellation);
    }

    private async Task LogSummariesAsync(BufferBudget budget, CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(_options.SummaryInterval, _clock);
        var previous = Metrics.Totals.Snapshot();
        while (await timer.WaitForNextTickAsync(cancellation))
        {
            var now = Metrics.Totals.Snapshot();
            LogSummary(now - previous, budget, $"Last {_options.SummaryInterval}");
            previous = now;
        }
    }

    private void LogSummary(TotalsSnapshot delta, BufferBudget budget, string period) =>
        _logger.LogInformation(
            "{Period}: {Messages} messages, {UsageRows} usage rows, {HeartbeatRows} heartbeats, {Rejected} quarantined, {Duplicates} duplicates skipped, {Batches} batches; {Partitions} partitions owned, {Buffered} messages buffered",
            period, delta.Messages, delta.UsageRows, delta.HeartbeatRows, delta.Rejected, delta.Duplicates, delta.Batches,
            AssignedPartitions, budget.Messages);

    /// <summary>Ready = owns partitions and the database answers (checked at most every 2 s).</summary>
    private async Task<bool> IsReadyAsync(CancellationToken cancellation)
    {
        if (AssignedPartitions == 0) return false;
        var now = DateTime.UtcNow;
        if (now - _lastDatabaseCheck < TimeSpan.FromSeconds(2)) return _lastDatabaseOk;
        try
        {
            await using var conn = new NpgsqlConnection(_options.ConnectionString);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await conn.OpenAsync(timeout.Token);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(timeout.Token);
            _lastDatabaseOk = true;
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            _lastDatabaseOk = false;
        }
        _lastDatabaseCheck = now;
        return _lastDatabaseOk;
    }

    private static async Task Quietly(Task task)
    {
        try { await task; } catch (Exception) { /* reported by the caller from the task's state */ }
    }
}
