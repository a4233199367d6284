using System.Text;
using Confluent.Kafka;
using Pipeline.EmbeddedKafka;
using Pipeline.TestSupport;
using Xunit.Abstractions;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>
/// One fault scenario's world: its own broker in this process, its own topics and consumer group,
/// a database the caller owns, the agents (<see cref="SampleLoad"/>) and every real ingest process
/// it started, whose output ends up in failure messages.
/// </summary>
internal sealed class IngestRig : IAsyncDisposable
{
    public const int Partitions = 16;

    /// <summary>Generous: a slow shared CI machine must never fail a correct ingest. Never asserted on.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    private readonly MockKafkaCluster _broker;
    private readonly List<PipelineProcess> _processes = [];
    private readonly StringBuilder _events = new();
    private readonly Func<string>? _databaseDiagnostics;
    private readonly ITestOutputHelper _output;
    private int _started;

    public IngestRig(ITestOutputHelper output, string connectionString, SampleLoadShape? shape = null, Func<string>? databaseDiagnostics = null)
    {
        _output = output;
        ConnectionString = connectionString;
        _databaseDiagnostics = databaseDiagnostics;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        UsageTopic = "usage-" + suffix;
        HeartbeatTopic = "heartbeat-" + suffix;
        ConsumerGroup = "ingest-" + suffix;
        _broker = new MockKafkaCluster();
        _broker.CreateTopic(UsageTopic, Partitions);
        _broker.CreateTopic(HeartbeatTopic, Partitions);
        Load = new SampleLoad(_broker.BootstrapServers, UsageTopic, HeartbeatTopic, shape);
    }

    public string ConnectionString { get; }
    public string UsageTopic { get; }
    public string HeartbeatTopic { get; }
    public string ConsumerGroup { get; }
    public SampleLoad Load { get; }

    /// <summary>
    /// Starts `pipeline ingest` against this rig's broker, topics and database, with small batches
    /// (many commits, so faults land between and inside them) and short retry and session timeouts.
    /// Later flags override earlier ones.
    /// </summary>
    public PipelineProcess StartIngest(params string[] extraFlags)
    {
        var name = $"ingest#{++_started}";
        string[] flags =
        [
            "ingest",
            $"--Database:ConnectionString={ConnectionString}",
            $"--Kafka:BootstrapServers={_broker.BootstrapServers}",
            $"--Ingest:UsageTopic={UsageTopic}",
            $"--Ingest:HeartbeatTopic={HeartbeatTopic}",
            $"--Ingest:ConsumerGroup={ConsumerGroup}",
            "--Ingest:MetricsPort=0",
            "--Ingest:BatchMaxRows=500",
            "--Ingest:BatchMaxAge=50ms",
            "--Ingest:RetryMaxDelay=1s",
            "--Ingest:SummaryInterval=5s",
            "--Ingest:ShutdownTimeout=30s",
            "--Kafka:SessionTimeout=6s",
            .. extraFlags,
        ];
        var process = PipelineProcess.Start(flags, name: name);
        _processes.Add(process);
        Note($"started {name} (pid {process.Id}) {string.Join(' ', extraFlags)}");
        return process;
    }

    /// <summary>A line for the failure message's timeline ("killed ingest#1 at 12000 rows").</summary>
    public void Note(string what)
    {
        lock (_events) _events.Append(DateTime.UtcNow.ToString("HH:mm:ss.fff")).Append(' ').Append(what).Append('\n');
    }

    /// <summary>Waits until gpu_usage has <paramref name="rows"/> rows; the trigger for a fault at that point of the stream.</summary>
    public Task<long> WaitForUsageRowsAsync(long rows) =>
        IngestAudit.WaitForUsageRowsAsync(ConnectionString, rows, Patience, Diagnostics, giveUpWhen: AllExited);

    private bool AllExited() => _processes.Count > 0 && _processes.All(p => p.HasExited);

    /// <summary>Waits until the database holds exactly what was produced, and fails with every difference otherwise.</summary>
    public async Task AssertExactLandingAsync()
    {
        var expected = Load.Expected;
        var differences = await IngestAudit.WaitForExactLandingAsync(ConnectionString, expected, Patience,
            giveUpWhen: AllExited);
        if (differences.Count > 0)
        {
            var evicted = Load.EvictedPartitions();
            Assert.Fail("the database does not hold exactly what was produced:\n" + IngestAudit.Describe(differences) +
                (evicted.Count > 0 ? "\nNOTE the broker evicted data (test sizing, not the ingest): " + string.Join(", ", evicted) : "") +
                "\n" + Diagnostics());
        }
        Assert.Empty(Load.EvictedPartitions());
    }

    /// <summary>
    /// With no ingest running: the database holds exactly the messages below its stored offsets
    /// (rows, quarantine and offsets committed together, whatever moment the process died).
    /// Returns how many usage rows that prefix holds.
    /// </summary>
    public async Task<long> AssertRowsMatchStoredOffsetsAsync(string moment)
    {
        var (differences, stored) = await IngestAudit.PrefixDifferencesAsync(ConnectionString, Load);
        if (differences.Count > 0)
            Assert.Fail($"{moment}: the database is not exactly the messages below its stored offsets:\n" +
                IngestAudit.Describe(differences) + "\n" + Diagnostics());
        var expected = await Load.ExpectedUpToAsync(stored);
        Note($"{moment}: consistent prefix, {expected.Usage.Rows} usage rows, {stored.Values.Sum()} messages below stored offsets");
        return expected.Usage.Rows;
    }

    /// <summary>The consumer group's offsets as committed to Kafka (the copy lag tooling reads).</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> KafkaCommittedOffsets()
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            GroupId = ConsumerGroup,
            EnableAutoCommit = false,
        }).Build();
        var partitions = new[] { UsageTopic, HeartbeatTopic }
            .SelectMany(t => Enumerable.Range(0, Partitions).Select(p => new TopicPartition(t, p)));
        return consumer.Committed(partitions, TimeSpan.FromSeconds(10))
            .Where(c => c.Offset.Value >= 0)
            .ToDictionary(c => (c.Topic, c.Partition.Value), c => c.Offset.Value);
    }

    /// <summary>Timeline, then the tail of every ingest process's output, then the database's view.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        lock (_events) text.Append("--- timeline ---\n").Append(_events);
        foreach (var process in _processes)
        {
            if (process.FirstProblems() is { Length: > 0 } problems) text.Append(problems).Append('\n');
            text.Append(process.OutputTail(40)).Append('\n');
        }
        text.Append(DatabaseSessions());
        if (_databaseDiagnostics is not null) text.Append(_databaseDiagnostics());
        return text.ToString();
    }

    /// <summary>Exits within <see cref="Patience"/> with <paramref name="expected"/>, or fails with the whole story.</summary>
    public async Task AssertExitCodeAsync(PipelineProcess process, int expected)
    {
        var code = await process.WaitForExitAsync(Patience);
        Assert.True(code == expected, $"exit code {code}, expected {expected}\n{Diagnostics()}");
    }

    /// <summary>What every session on the database is doing: shows who holds or waits for which lock.</summary>
    private string DatabaseSessions()
    {
        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 3, CommandTimeout = 5 };
            using var conn = new Npgsql.NpgsqlConnection(builder.ConnectionString);
            conn.Open();
            using var cmd = new Npgsql.NpgsqlCommand("""
                SELECT pid, application_name, state, wait_event_type || ':' || wait_event, pg_blocking_pids(pid)::text,
                       round(extract(epoch FROM now() - xact_start))::int, left(query, 80)
                FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                """, conn);
            using var r = cmd.ExecuteReader();
            var text = new StringBuilder("--- database sessions (pid, application, state, wait, blocked by, transaction age s, query) ---\n");
            while (r.Read())
            {
                for (var i = 0; i < r.FieldCount; i++) text.Append(r.IsDBNull(i) ? "-" : r.GetValue(i)).Append(i + 1 < r.FieldCount ? " | " : "\n");
            }
            return text.ToString();
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
        {
            return $"--- database sessions: unavailable ({ex.Message}) ---\n";
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The timeline shows where the faults landed, also when the test passed.
        lock (_events) _output.WriteLine(_events.ToString());
        foreach (var process in _processes) await process.DisposeAsync();
        Load.Dispose();
        _broker.Dispose();
    }
}
