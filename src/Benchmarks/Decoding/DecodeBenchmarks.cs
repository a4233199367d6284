using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Simulation;

namespace Pipeline.Benchmarks.Decoding;

/// <summary>
/// UsageDecoder against the obvious alternative, JsonSerializer into DTOs followed by the same
/// validation, on simulated agent traffic (arrays of 10 samples, every timestamp form, unknown
/// fields). Times and allocations are per message.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private const int MessageCount = 1000;

    private byte[][] _messages = [];
    private UsageDecoder _decoder = null!;
    private SerializerBaselineDecoder _baseline = null!;
    private readonly List<UsageSample> _accepted = new(16);
    private readonly List<Rejection> _rejected = new(4);

    [GlobalSetup]
    public void Setup()
    {
        var simulator = new AgentSimulator(new SimulationPlan
        {
            Gpus = 1000,
            Providers = 12,
            SamplesPerMessage = 10,
            Start = DateTimeOffset.UtcNow.AddHours(-1),
        });
        _messages = simulator.Messages().Where(m => m.Topic == AgentTopic.Usage).Take(MessageCount).Select(m => m.Value).ToArray();
        _decoder = new UsageDecoder(ValidationRules.Default);
        _baseline = new SerializerBaselineDecoder(ValidationRules.Default);

        // Both must agree before their speed means anything.
        var expected = Decode(m => _decoder.Decode(m, _accepted, _rejected));
        var actual = Decode(m => _baseline.Decode(m, _accepted, _rejected));
        if (expected != actual || expected.Accepted != MessageCount * 10)
            throw new InvalidOperationException($"decoders disagree: {expected} vs {actual}");
    }

    private (int Accepted, int Rejected, double UtilizationSum) Decode(Action<byte[]> decode)
    {
        int accepted = 0, rejected = 0;
        double sum = 0;
        foreach (var message in _messages)
        {
            _accepted.Clear();
            _rejected.Clear();
            decode(message);
            accepted += _accepted.Count;
            rejected += _rejected.Count;
            foreach (var s in _accepted) sum += s.UtilizationPct;
        }
        return (accepted, rejected, sum);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = MessageCount)]
    public int JsonSerializerThenValidate()
    {
        var count = 0;
        foreach (var message in _messages)
        {
            _accepted.Clear();
            _rejected.Clear();
            _baseline.Decode(message, _accepted, _rejected);
            count += _accepted.Count;
        }
        return count;
    }

    [Benchmark(OperationsPerInvoke = MessageCount)]
    public int UsageDecoder()
    {
        var count = 0;
        foreach (var message in _messages)
        {
            _accepted.Clear();
            _rejected.Clear();
            _decoder.Decode(message, _accepted, _rejected);
            count += _accepted.Count;
        }
        return count;
    }
}

/// <summary>
/// The baseline: reflection-based JsonSerializer into nullable DTOs, then the same rules as
/// UsageDecoder. It cannot reject one array element alone (a type error fails the whole array),
/// which is one reason the pipeline does not use it.
/// </summary>
internal sealed class SerializerBaselineDecoder(ValidationRules rules)
{
    private static readonly JsonSerializerOptions Options = new() { Converters = { new TimestampConverter() } };

    public void Decode(byte[] value, List<UsageSample> accepted, List<Rejection> rejected)
    {
        if (value.Length == 0 || value.Length > rules.MaxValueBytes)
        {
            rejected.Add(new Rejection(null, value.Length == 0 ? RejectionReason.EmptyValue : RejectionReason.ValueTooLarge, ""));
            return;
        }
        if (!System.Text.Unicode.Utf8.IsValid(value))
        {
            rejected.Add(new Rejection(null, RejectionReason.InvalidUtf8, ""));
            return;
        }
        try
        {
            var now = rules.Clock.GetUtcNow();
            if (value.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'[', ..])
            {
                var list = JsonSerializer.Deserialize<List<UsageDto>>(value, Options) ?? [];
                for (var i = 0; i < list.Count; i++) Validate(list[i], i, now, accepted, rejected);
            }
            else if (JsonSerializer.Deserialize<UsageDto>(value, Options) is { } single)
                Validate(single, null, now, accepted, rejected);
        }
        catch (JsonException ex)
        {
            rejected.Add(new Rejection(null, RejectionReason.MalformedJson, ex.Message));
        }
    }

    private void Validate(UsageDto d, int? index, DateTimeOffset now, List<UsageSample> accepted, List<Rejection> rejected)
    {
        string? reason =
            d.GpuId is null || d.ProviderId is null || d.Ts is null || d.UtilizationPct is null || d.MemoryUsedMib is null
                || d.MemoryTotalMib is null || d.TemperatureC is null || d.PowerW is null ? RejectionReason.MissingField
            : !IdOk(d.GpuId) || !IdOk(d.ProviderId) ? RejectionReason.InvalidString
            : !double.IsFinite(d.UtilizationPct.Value) || !double.IsFinite(d.TemperatureC.Value) || !double.IsFinite(d.PowerW.Value) ? RejectionReason.NotFinite
            : d.UtilizationPct is < SampleLimits.MinUtilizationPct or > SampleLimits.MaxUtilizationPct
                || d.MemoryUsedMib is < 0 or > SampleLimits.MaxMemoryMib || d.MemoryTotalMib is < 1 or > SampleLimits.MaxMemoryMib
                || d.TemperatureC is < SampleLimits.MinTemperatureC or > SampleLimits.MaxTemperatureC
                || d.PowerW is < SampleLimits.MinPowerW or > SampleLimits.MaxPowerW
                || d.SmClockMhz is < 0 or > SampleLimits.MaxClockMhz || d.MemClockMhz is < 0 or > SampleLimits.MaxClockMhz
                || d.EccErrors < 0 ? RejectionReason.OutOfRange
            : d.MemoryUsedMib > d.MemoryTotalMib ? RejectionReason.MemoryUsedExceedsTotal
            : d.Ts > now + rules.MaxFutureSkew ? RejectionReason.TimestampInFuture
            : d.Ts < now - rules.Retention ? RejectionReason.TimestampTooOld
            : null;
        if (reason is not null)
        {
            rejected.Add(new Rejection(index, reason, ""));
            return;
        }
        var utc = d.Ts!.Value.UtcTicks;
        accepted.Add(new UsageSample(new DateTimeOffset(utc - utc % 10, TimeSpan.Zero), d.GpuId!, d.ProviderId!, (float)d.UtilizationPct!.Value,
            d.MemoryUsedMib!.Value, d.MemoryTotalMib!.Value, (float)d.TemperatureC!.Value, (float)d.PowerW!.Value, d.SmClockMhz, d.MemClockMhz, d.EccErrors));
    }

    private static bool IdOk(string id) => id.Length is > 0 and <= SampleLimits.MaxIdBytes && !id.Any(char.IsControl);

    private sealed class UsageDto
    {
        [JsonPropertyName("gpu_id")] public string? GpuId { get; set; }
        [JsonPropertyName("provider_id")] public string? ProviderId { get; set; }
        [JsonPropertyName("ts")] public DateTimeOffset? Ts { get; set; }
        [JsonPropertyName("utilization_pct")] public double? UtilizationPct { get; set; }
        [JsonPropertyName("memory_used_mib")] public long? MemoryUsedMib { get; set; }
        [JsonPropertyName("memory_total_mib")] public long? MemoryTotalMib { get; set; }
        [JsonPropertyName("temperature_c")] public double? TemperatureC { get; set; }
        [JsonPropertyName("power_w")] public double? PowerW { get; set; }
        [JsonPropertyName("sm_clock_mhz")] public int? SmClockMhz { get; set; }
        [JsonPropertyName("mem_clock_mhz")] public int? MemClockMhz { get; set; }
        [JsonPropertyName("ecc_errors")] public long? EccErrors { get; set; }
    }

    /// <summary>ts is an RFC 3339 string or epoch milliseconds.</summary>
    private sealed class TimestampConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Number
                ? DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64())
                : reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value);
    }
}
