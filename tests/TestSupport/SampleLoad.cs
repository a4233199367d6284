using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;

namespace Pipeline.TestSupport;

/// <summary>What a <see cref="SampleLoad"/> sends, besides clean samples.</summary>
public sealed record SampleLoadShape
{
    public int GpuCount { get; init; } = 48;

    /// <summary>Samples in each usage message (agents batch them into one JSON array).</summary>
    public int SamplesPerMessage { get; init; } = 20;

    /// <summary>One heartbeat after every N usage messages (0: none).</summary>
    public int HeartbeatEvery { get; init; } = 5;

    /// <summary>Every Nth usage message is followed by a resend of an earlier one, as an agent retry would (0: never).</summary>
    public int AgentRetryEvery { get; init; } = 40;

    /// <summary>Every Nth usage message carries one sample with utilization over 100, which alone is quarantined (0: never).</summary>
    public int BadElementEvery { get; init; } = 60;

    /// <summary>Every Nth usage message is followed by a truncated JSON value, quarantined whole (0: never).</summary>
    public int MalformedEvery { get; init; } = 150;
}

/// <summary>
/// A fleet of synthetic GPU agents producing usage and heartbeat messages to a broker, keeping
/// the exact outcome a correct ingest must reach: row counts, per-column sums, quarantined
/// messages, each GPU's last heartbeat and the end offset of every partition written.
/// Every value is a multiple of 0.25 so float sums in the database are exact whatever the order.
/// Thread-safe: production may run in the background while a test reads <see cref="Expected"/>.
/// </summary>
public sealed class SampleLoad : IDisposable
{
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(50);
    private static readonly string[] Statuses = ["healthy", "degraded", "unhealthy"];

    private readonly string _bootstrapServers;
    private readonly IProducer<string, byte[]> _producer;
    private readonly Lock _gate = new();
    private readonly DateTimeOffset _firstSample;
    private readonly DateTimeOffset[] _gpuClock;
    private readonly long[] _uptime;
    private readonly Queue<(string Key, byte[] Value, int BadElements)> _recentUsage = new();
    // What each delivered message adds to a correct outcome, by partition and offset.
    private readonly Dictionary<(string Topic, int Partition), SortedDictionary<long, MessageOutcome>> _ledger = [];
    private string? _deliveryError;
    private long _usageMessages;
    private long _sampleNumber;
    private long _usageRowsProduced;
    private long _messagesProduced;

    public SampleLoad(string bootstrapServers, string usageTopic, string heartbeatTopic, SampleLoadShape? shape = null)
    {
        _bootstrapServers = bootstrapServers;
        UsageTopic = usageTopic;
        HeartbeatTopic = heartbeatTopic;
        Shape = shape ?? new SampleLoadShape();
        ArgumentOutOfRangeException.ThrowIfLessThan(Shape.GpuCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Shape.SamplesPerMessage, 1);
        // Recent enough for any retention window, far enough back for hours of samples.
        var now = DateTimeOffset.UtcNow;
        _firstSample = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddHours(-1);
        _gpuClock = Enumerable.Range(0, Shape.GpuCount).Select(g => _firstSample.AddMilliseconds(g)).ToArray();
        _uptime = new long[Shape.GpuCount];
        _producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build();
    }

    public string UsageTopic { get; }

    public string HeartbeatTopic { get; }

    public SampleLoadShape Shape { get; }

    /// <summary>Accepted samples produced so far (duplicates and rejected elements not counted).</summary>
    public long UsageRowsProduced { get { lock (_gate) return _usageRowsProduced; } }

    /// <summary>Messages of both topics produced so far, retries and malformed ones included.</summary>
    public long MessagesProduced { get { lock (_gate) return _messagesProduced; } }

    /// <summary>The outcome of every message the broker confirmed; complete once a producing call returned.</summary>
    public ExpectedLanding Expected
    {
        get
        {
            lock (_gate)
                return Sum(_ledger.ToDictionary(p => p.Key, p => p.Value.Count > 0 ? p.Value.Keys.Max() + 1 : 0));
        }
    }

    /// <summary>
    /// The outcome of exactly the messages below <paramref name="nextOffsets"/> (partitions not
    /// named: none): what the database must hold when these are its stored offsets, if rows and
    /// offsets commit together. Waits briefly for delivery reports of messages the ingest may have
    /// read before this producer heard back from the broker.
    /// </summary>
    public async Task<ExpectedLanding> ExpectedUpToAsync(IReadOnlyDictionary<(string Topic, int Partition), long> nextOffsets)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            lock (_gate)
            {
                var missing = nextOffsets.Where(p => p.Value > 0 &&
                    (!_ledger.TryGetValue(p.Key, out var known) || known.Count < p.Value || !known.ContainsKey(p.Value - 1))).ToList();
                if (missing.Count == 0) return Sum(nextOffsets);
                if (DateTime.UtcNow > deadline)
                    throw new InvalidOperationException("stored offsets point past what the broker confirmed to this load: " +
                        string.Join(", ", missing.Select(m => $"{m.Key.Topic}[{m.Key.Partition}]@{m.Value}")));
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Produces the next <paramref name="usageMessages"/> usage messages (with their heartbeats, retries and bad input) and waits until the broker has them all.</summary>
    public Task ProduceAsync(int usageMessages, CancellationToken cancellation = default) =>
        ProduceAsync(usageMessages, messagesPerSecond: 0, cancellation);

    /// <summary>
    /// Like <see cref="ProduceAsync(int, CancellationToken)"/>, paced at about
    /// <paramref name="messagesPerSecond"/> usage messages a second (0: as fast as possible) so
    /// faults can be injected while the stream is still flowing.
    /// </summary>
    public async Task ProduceAsync(int usageMessages, int messagesPerSecond, CancellationToken cancellation = default)
    {
        const int SlicesPerSecond = 20;
        var perSlice = messagesPerSecond <= 0 ? usageMessages : Math.Max(1, messagesPerSecond / SlicesPerSecond);
        var sent = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (sent < usageMessages)
        {
            cancellation.ThrowIfCancellationRequested();
            var slice = Math.Min(perSlice, usageMessages - sent);
            for (var i = 0; i < slice; i++) ProduceNextUsageMessage();
            sent += slice;
            if (messagesPerSecond > 0)
            {
                var due = TimeSpan.FromSeconds((double)sent / messagesPerSecond);
                if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed, cancellation);
            }
        }
        await Task.Run(() => _producer.Flush(cancellation), cancellation);
        lock (_gate)
            if (_deliveryError is not null) throw new InvalidOperationException("the broker refused a message: " + _deliveryError);
    }

    /// <summary>
    /// Partitions the broker has already evicted data from (its per-partition cap); a non-empty
    /// answer means the test produced more than the mock keeps, not that the ingest lost anything.
    /// </summary>
    public IReadOnlyList<string> EvictedPartitions()
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = _bootstrapServers,
            GroupId = "sample-load-watermarks",
        }).Build();
        var evicted = new List<string>();
        List<(string Topic, int Partition)> partitions;
        lock (_gate) partitions = [.. _ledger.Keys];
        foreach (var (topic, partition) in partitions)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(10));
            if (marks.Low > 0) evicted.Add($"{topic}[{partition}] low watermark {marks.Low}");
        }
        return evicted;
    }

    public void Dispose() => _producer.Dispose();

    private void ProduceNextUsageMessage()
    {
        lock (_gate)
        {
            var n = _usageMessages++;
            var gpu = (int)(n % Shape.GpuCount);
            var key = GpuId(gpu);
            var badElements = 0;
            var usage = default(UsageTotals);
            var value = Json(writer =>
            {
                writer.WriteStartArray();
                var badAt = Shape.BadElementEvery > 0 && n % Shape.BadElementEvery == Shape.BadElementEvery - 1 ? (int)(n % Shape.SamplesPerMessage) : -1;
                for (var i = 0; i < Shape.SamplesPerMessage; i++)
                {
                    var ts = _gpuClock[gpu] = _gpuClock[gpu] + SampleInterval;
                    if (i == badAt)
                    {
                        WriteUsageSample(writer, key, gpu, ts, _sampleNumber++, utilizationOverride: 100.25);
                        badElements++;
                    }
                    else
                    {
                        usage = usage.Add(WriteUsageSample(writer, key, gpu, ts, _sampleNumber++, utilizationOverride: null));
                    }
                }
                writer.WriteEndArray();
            });
            if (_gpuClock[gpu] > DateTimeOffset.UtcNow.AddMinutes(4))
                throw new InvalidOperationException("the load outran the clock: fewer samples per GPU or more GPUs");
            _usageRowsProduced += usage.Rows;
            Send(UsageTopic, key, value, new MessageOutcome(usage, badElements, null));
            _recentUsage.Enqueue((key, value, badElements));
            if (_recentUsage.Count > 16) _recentUsage.Dequeue();

            if (Shape.AgentRetryEvery > 0 && n % Shape.AgentRetryEvery == Shape.AgentRetryEvery - 1)
            {
                // The same samples again at a later offset of the same partition (same key): no new
                // rows, but a bad element is quarantined again since it is a new message.
                var (retryKey, retryValue, retryBad) = _recentUsage.Peek();
                Send(UsageTopic, retryKey, retryValue, new MessageOutcome(default, retryBad, null));
            }
            if (Shape.MalformedEvery > 0 && n % Shape.MalformedEvery == Shape.MalformedEvery - 1)
                Send(UsageTopic, key, Encoding.UTF8.GetBytes($"{{\"gpu_id\":\"{key}\",\"ts\":"), new MessageOutcome(default, 1, null));
            if (Shape.HeartbeatEvery > 0 && n % Shape.HeartbeatEvery == Shape.HeartbeatEvery - 1)
                ProduceHeartbeat(gpu, key, n);
        }
    }

    private void ProduceHeartbeat(int gpu, string key, long n)
    {
        var ts = _gpuClock[gpu];
        var status = Statuses[(int)(n / Shape.HeartbeatEvery % Statuses.Length)];
        var uptime = _uptime[gpu] += 7;
        var value = Json(writer =>
        {
            var asArray = n % 2 == 0;
            if (asArray) writer.WriteStartArray();
            writer.WriteStartObject();
            writer.WriteString("gpu_id", key);
            writer.WriteString("provider_id", ProviderId(gpu));
            WriteTimestamp(writer, ts, n);
            writer.WriteString("status", status);
            writer.WriteString("agent_version", "1.4." + (gpu % 3).ToString(CultureInfo.InvariantCulture));
            writer.WriteString("driver_version", "550.54.15");
            writer.WriteNumber("uptime_s", uptime);
            writer.WriteEndObject();
            if (asArray) writer.WriteEndArray();
        });
        Send(HeartbeatTopic, key, value, new MessageOutcome(default, 0, new HeartbeatOutcome(key, ts, status, uptime)));
    }

    /// <summary>Writes one sample; returns its contribution to the expected totals.</summary>
    private static UsageTotals WriteUsageSample(Utf8JsonWriter writer, string key, int gpu, DateTimeOffset ts, long n, double? utilizationOverride)
    {
        var utilization = utilizationOverride ?? n % 201 * 0.5;
        var memoryTotal = gpu % 2 == 0 ? 81_920L : 40_960L;
        var memoryUsed = n * 37 % memoryTotal;
        var temperature = 30 + n % 60 + 0.25;
        var power = 50 + n % 600 * 0.5;
        long? smClock = n % 3 == 0 ? null : 1_000 + n % 1_000;
        long? ecc = n % 5 == 0 ? n % 7 : null;

        writer.WriteStartObject();
        writer.WriteString("gpu_id", key);
        writer.WriteString("provider_id", ProviderId(gpu));
        WriteTimestamp(writer, ts, n);
        writer.WriteNumber("utilization_pct", utilization);
        writer.WriteNumber("memory_used_mib", memoryUsed);
        writer.WriteNumber("memory_total_mib", memoryTotal);
        writer.WriteNumber("temperature_c", temperature);
        writer.WriteNumber("power_w", power);
        if (smClock is { } sm) writer.WriteNumber("sm_clock_mhz", sm);
        if (n % 4 == 1) writer.WriteNumber("mem_clock_mhz", 1_593);
        if (ecc is { } e) writer.WriteNumber("ecc_errors", e);
        // Agents newer than the ingest may send fields it does not know yet.
        if (n % 7 == 0) writer.WriteString("hostname", "node-" + (gpu / 8).ToString(CultureInfo.InvariantCulture));
        writer.WriteEndObject();

        return new UsageTotals(1, utilization, memoryUsed, memoryTotal, temperature, power,
            smClock ?? 0, smClock is null ? 0 : 1, ecc ?? 0, ecc is null ? 0 : 1);
    }

    /// <summary>Both timestamp forms of the protocol: epoch milliseconds, RFC 3339 in UTC and with an offset.</summary>
    private static void WriteTimestamp(Utf8JsonWriter writer, DateTimeOffset ts, long n)
    {
        switch (n % 3)
        {
            case 0:
                writer.WriteNumber("ts", ts.ToUnixTimeMilliseconds());
                break;
            case 1:
                writer.WriteString("ts", ts.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                break;
            default:
                writer.WriteString("ts", ts.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture));
                break;
        }
    }

    private void Send(string topic, string key, byte[] value, MessageOutcome outcome)
    {
        _messagesProduced++;
        _producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value }, report =>
        {
            lock (_gate)
            {
                if (report.Error.IsError)
                {
                    _deliveryError ??= $"{report.Topic}: {report.Error.Reason}";
                    return;
                }
                var tp = (report.Topic, report.Partition.Value);
                if (!_ledger.TryGetValue(tp, out var partition)) _ledger[tp] = partition = [];
                partition[report.Offset.Value] = outcome;
            }
        });
    }

    private ExpectedLanding Sum(IReadOnlyDictionary<(string Topic, int Partition), long> nextOffsets)
    {
        var usage = default(UsageTotals);
        long heartbeats = 0, uptime = 0, quarantined = 0;
        var last = new Dictionary<string, (DateTimeOffset Ts, string Status)>();
        var ends = new Dictionary<(string, int), long>();
        foreach (var (tp, messages) in _ledger)
        {
            var next = nextOffsets.GetValueOrDefault(tp);
            if (next > 0) ends[tp] = next;
            foreach (var (_, outcome) in messages.TakeWhile(m => m.Key < next))
            {
                usage = usage.Add(outcome.Usage);
                quarantined += outcome.QuarantineRows;
                if (outcome.Heartbeat is not { } beat) continue;
                heartbeats++;
                uptime += beat.UptimeS;
                if (!last.TryGetValue(beat.GpuId, out var seen) || seen.Ts < beat.Ts) last[beat.GpuId] = (beat.Ts, beat.Status);
            }
        }
        return new ExpectedLanding(UsageTopic, HeartbeatTopic, usage, heartbeats, uptime, quarantined, last, ends);
    }

    private sealed record HeartbeatOutcome(string GpuId, DateTimeOffset Ts, string Status, long UptimeS);

    /// <summary>What one message adds: accepted samples (none for a retry), quarantined entries, a heartbeat.</summary>
    private sealed record MessageOutcome(UsageTotals Usage, int QuarantineRows, HeartbeatOutcome? Heartbeat);

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return buffer.WrittenSpan.ToArray();
    }

    private static string GpuId(int gpu) => "gpu-" + gpu.ToString("D4", CultureInfo.InvariantCulture);

    private static string ProviderId(int gpu) => "provider-" + (gpu % 4).ToString(CultureInfo.InvariantCulture);
}

/// <summary>Count and per-column sums of accepted usage samples (nullable columns: sum and count of non-null).</summary>
public readonly record struct UsageTotals(
    long Rows, double UtilizationPct, long MemoryUsedMib, long MemoryTotalMib, double TemperatureC, double PowerW,
    long SmClockMhzSum, long SmClockMhzCount, long EccErrorsSum, long EccErrorsCount)
{
    public UsageTotals Add(UsageTotals other) => new(
        Rows + other.Rows, UtilizationPct + other.UtilizationPct, MemoryUsedMib + other.MemoryUsedMib,
        MemoryTotalMib + other.MemoryTotalMib, TemperatureC + other.TemperatureC, PowerW + other.PowerW,
        SmClockMhzSum + other.SmClockMhzSum, SmClockMhzCount + other.SmClockMhzCount,
        EccErrorsSum + other.EccErrorsSum, EccErrorsCount + other.EccErrorsCount);
}

/// <summary>What the database must hold once a correct ingest has consumed everything a <see cref="SampleLoad"/> produced.</summary>
public sealed record ExpectedLanding(
    string UsageTopic,
    string HeartbeatTopic,
    UsageTotals Usage,
    long HeartbeatRows,
    long HeartbeatUptimeSum,
    long QuarantineRows,
    IReadOnlyDictionary<string, (DateTimeOffset Ts, string Status)> LastHeartbeat,
    IReadOnlyDictionary<(string Topic, int Partition), long> EndOffsets);
