using System.Text.Json;

namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Decodes gpu.usage.v1 message values (docs/agent-protocol.md) with Utf8JsonReader: no reflection,
/// no DOM, numbers and timestamps parsed from the bytes, ids interned. One instance per consumer:
/// it is not thread-safe (it owns a cache of id strings).
/// </summary>
public sealed class UsageDecoder(ValidationRules rules) : ISampleReader<UsageSample>
{
    // One cache per field, so each remembers its own last value.
    private readonly Utf8StringInterner _gpuIds = new(InternedIdCapacity);
    private readonly Utf8StringInterner _providerIds = new(InternedIdCapacity);

    /// <summary>Distinct gpu_id (and, separately, provider_id) strings kept before a cache starts over.</summary>
    public const int InternedIdCapacity = 65_536;

    public ValidationRules Rules { get; } = rules;

    /// <summary>
    /// Decodes one Kafka message value (one JSON object or an array of them). Appends valid samples to
    /// <paramref name="accepted"/> and one <see cref="Rejection"/> per bad element (or one for the whole
    /// message) to <paramref name="rejected"/>. Never throws on bad input.
    /// </summary>
    public void Decode(ReadOnlySpan<byte> value, List<UsageSample> accepted, List<Rejection> rejected) =>
        MessageFraming.Decode(value, Rules, this, accepted, rejected);

    [Flags]
    private enum Field
    {
        None = 0,
        GpuId = 1 << 0,
        ProviderId = 1 << 1,
        Ts = 1 << 2,
        UtilizationPct = 1 << 3,
        MemoryUsedMib = 1 << 4,
        MemoryTotalMib = 1 << 5,
        TemperatureC = 1 << 6,
        PowerW = 1 << 7,
        SmClockMhz = 1 << 8,
        MemClockMhz = 1 << 9,
        EccErrors = 1 << 10,
        Optional = SmClockMhz | MemClockMhz | EccErrors,
    }

    // In the order a missing one is reported.
    private static readonly (Field Field, string Name)[] Required =
    [
        (Field.GpuId, "gpu_id"), (Field.ProviderId, "provider_id"), (Field.Ts, "ts"), (Field.UtilizationPct, "utilization_pct"),
        (Field.MemoryUsedMib, "memory_used_mib"), (Field.MemoryTotalMib, "memory_total_mib"), (Field.TemperatureC, "temperature_c"),
        (Field.PowerW, "power_w"),
    ];

    bool ISampleReader<UsageSample>.TryRead(ref Utf8JsonReader reader, DateTimeOffset now, out UsageSample sample, ref ElementProblem problem)
    {
        sample = default;
        var seen = Field.None;
        string gpuId = "", providerId = "";
        DateTimeOffset time = default;
        double utilization = 0, temperature = 0, power = 0;
        long memoryUsed = 0, memoryTotal = 0;
        long? smClock = null, memClock = null, eccErrors = null;
        Span<byte> nameBuffer = stackalloc byte[128];

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = Match(JsonFieldReader.PropertyName(in reader, nameBuffer), out var name);
            reader.Read();
            if (field == Field.None || problem.Found)
            {
                reader.Skip(); // unknown fields, nested or not, are ignored for forward compatibility
                continue;
            }
            if ((seen & field) != 0)
            {
                problem.Set(RejectionReason.DuplicateField, $"{name} appears more than once");
                reader.Skip();
                continue;
            }
            seen |= field;
            if (reader.TokenType == JsonTokenType.Null)
            {
                // Optional fields may be null, meaning absent.
                if ((field & Field.Optional) == 0) problem.Set(RejectionReason.MissingField, $"{name} is null");
                continue;
            }

            switch (field)
            {
                case Field.GpuId:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxIdBytes, _gpuIds, out gpuId, ref problem);
                    break;
                case Field.ProviderId:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxIdBytes, _providerIds, out providerId, ref problem);
                    break;
                case Field.Ts:
                    JsonFieldReader.TryReadTimestamp(ref reader, name, Rules, now, out time, ref problem);
                    break;
                case Field.UtilizationPct:
                    JsonFieldReader.TryReadDouble(ref reader, name, SampleLimits.MinUtilizationPct, SampleLimits.MaxUtilizationPct, out utilization, ref problem);
                    break;
                case Field.MemoryUsedMib:
                    JsonFieldReader.TryReadInt64(ref reader, name, 0, SampleLimits.MaxMemoryMib, out memoryUsed, ref problem);
                    break;
                case Field.MemoryTotalMib:
                    JsonFieldReader.TryReadInt64(ref reader, name, 1, SampleLimits.MaxMemoryMib, out memoryTotal, ref problem);
                    break;
                case Field.TemperatureC:
                    JsonFieldReader.TryReadDouble(ref reader, name, SampleLimits.MinTemperatureC, SampleLimits.MaxTemperatureC, out temperature, ref problem);
                    break;
                case Field.PowerW:
                    JsonFieldReader.TryReadDouble(ref reader, name, SampleLimits.MinPowerW, SampleLimits.MaxPowerW, out power, ref problem);
                    break;
                case Field.SmClockMhz:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, SampleLimits.MaxClockMhz, out var sm, ref problem)) smClock = sm;
                    break;
                case Field.MemClockMhz:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, SampleLimits.MaxClockMhz, out var mem, ref problem)) memClock = mem;
                    break;
                case Field.EccErrors:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, long.MaxValue, out var ecc, ref problem)) eccErrors = ecc;
                    break;
            }
            reader.Skip(); // a container where a value was expected
        }

        if (problem.Found) return false;
        foreach (var (field, name) in Required)
        {
            if ((seen & field) == 0) return problem.Set(RejectionReason.MissingField, $"{name} is missing");
        }
        if (memoryUsed > memoryTotal)
            return problem.Set(RejectionReason.MemoryUsedExceedsTotal, $"memory_used_mib {memoryUsed} exceeds memory_total_mib {memoryTotal}");

        sample = new UsageSample(time, gpuId, providerId, (float)utilization, memoryUsed, memoryTotal, (float)temperature, (float)power,
            (int?)smClock, (int?)memClock, eccErrors);
        return true;
    }

    private static Field Match(ReadOnlySpan<byte> name, out string text)
    {
        (var field, text) = name.Length switch
        {
            2 when name.SequenceEqual("ts"u8) => (Field.Ts, "ts"),
            6 when name.SequenceEqual("gpu_id"u8) => (Field.GpuId, "gpu_id"),
            7 when name.SequenceEqual("power_w"u8) => (Field.PowerW, "power_w"),
            10 when name.SequenceEqual("ecc_errors"u8) => (Field.EccErrors, "ecc_errors"),
            11 when name.SequenceEqual("provider_id"u8) => (Field.ProviderId, "provider_id"),
            12 when name.SequenceEqual("sm_clock_mhz"u8) => (Field.SmClockMhz, "sm_clock_mhz"),
            13 when name.SequenceEqual("temperature_c"u8) => (Field.TemperatureC, "temperature_c"),
            13 when name.SequenceEqual("mem_clock_mhz"u8) => (Field.MemClockMhz, "mem_clock_mhz"),
            15 when name.SequenceEqual("utilization_pct"u8) => (Field.UtilizationPct, "utilization_pct"),
            15 when name.SequenceEqual("memory_used_mib"u8) => (Field.MemoryUsedMib, "memory_used_mib"),
            16 when name.SequenceEqual("memory_total_mib"u8) => (Field.MemoryTotalMib, "memory_total_mib"),
            _ => (Field.None, ""),
        };
        return field;
    }
}
