using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Pipeline.EmbeddedKafka;
using Pipeline.TestSupport;
using Prometheus;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>
/// An <see cref="IngestService"/> running inside the test process against a test's broker and
/// database, with its own metrics registry and a log kept for failure messages.
/// </summary>
internal sealed class InProcessIngest : IAsyncDisposable
{
    /// <summary>Generous: a slow shared CI machine must never fail a correct ingest. Never asserted on.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly CancellationTokenSource _stop = new();
    private readonly LogLines _log = new();
    private readonly ILoggerFactory _loggers;

    private InProcessIngest(IngestOptions options)
    {
        Options = options;
        _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(_log));
        Registry = Prometheus.Metrics.NewCustomRegistry();
        Service = new IngestService(options, _loggers, Registry);
        Run = Task.Run(() => Service.RunAsync(_stop.Token));
    }

    public IngestOptions Options { get; }
    public IngestService Service { get; }
    public CollectorRegistry Registry { get; }
    public Task<int> Run { get; }

    /// <summary>Test defaults: any free metrics port, small fast batches, short retry and session timeouts.</summary>
    public static IngestOptions OptionsFor(string connectionString, MockKafkaCluster broker, string usageTopic, string heartbeatTopic, string group) => new()
    {
        ConnectionString = connectionString,
        BootstrapServers = broker.BootstrapServers,
        UsageTopic = usageTopic,
        HeartbeatTopic = heartbeatTopic,
        ConsumerGroup = group,
        MetricsPort = 0,
        BatchMaxRows = 2000,
        BatchMaxAge = TimeSpan.FromMilliseconds(50),
        RetryMaxDelay = TimeSpan.FromSeconds(1),
        SummaryInterval = TimeSpan.FromSeconds(5),
        ShutdownTimeout = TimeSpan.FromSeconds(30),
        SessionTimeout = TimeSpan.FromSeconds(3),
        KafkaProperties = new Dictionary<string, string> { ["statistics.interval.ms"] = "500" },
    };

    public static InProcessIngest Start(IngestOptions options) => new(options);

    /// <summary>SIGTERM's equivalent: returns the exit code RunAsync returned.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await Run.WaitAsync(Patience);
    }

    /// <summary>Waits until the service owns <paramref name="partitions"/> partitions (the group settled).</summary>
    public async Task WaitForAssignmentAsync(int partitions)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (Service.AssignedPartitions < partitions)
        {
            if (Run.IsCompleted) throw new InvalidOperationException($"ingest stopped with {await Run}\n{Log}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"owns {Service.AssignedPartitions} of {partitions} partitions\n{Log}");
            await Task.Delay(20);
        }
    }

    /// <summary>Sum of a metric's samples over all label values (or only those matching <paramref name="labels"/>).</summary>
    public async Task<double> MetricAsync(string name, params (string Label, string Value)[] labels)
    {
        var text = await ExportAsync();
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length) continue;
            var rest = line[name.Length..];
            if (rest[0] != ' ' && rest[0] != '{') continue;
            if (labels.Any(l => !rest.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal))) continue;
            sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return sum;
    }

    public async Task<string> ExportAsync()
    {
        using var stream = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public string Log => _log.ToString();

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted)
        {
            await _stop.CancelAsync();
            try { await Run.WaitAsync(Patience); } catch (Exception) { /* the test already failed or passed on its own terms */ }
        }
        // INGEST_TEST_LOG=/some/file keeps every service's whole log, for looking into a run afterwards.
        if (Environment.GetEnvironmentVariable("INGEST_TEST_LOG") is { Length: > 0 } path)
            await File.AppendAllTextAsync(path, _log.All() + "\n");
        _loggers.Dispose();
        _stop.Dispose();
    }

    /// <summary>Keeps the last log lines of the service for assertion messages.</summary>
    private sealed class LogLines : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        public string All() => string.Join('\n', _lines);

        public override string ToString() => "--- ingest log (last lines) ---\n" + string.Join('\n', _lines.TakeLast(80));

        private void Add(string line)
        {
            _lines.Enqueue(line);
            while (_lines.Count > 2000) _lines.TryDequeue(out _);
        }

        private sealed class Logger(LogLines owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug && !category.StartsWith("Microsoft", StringComparison.Ordinal);

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                owner.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.GetBaseException().Message)}");
            }
        }
    }
}
