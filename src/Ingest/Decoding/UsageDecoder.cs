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

    bool ISampleReader<UsageSample>.TryRead(ref Utf8JsonReader reader, DateTimeOffset now, out UsageSample sample, ref ElementProblem problem)
    {
        sample = default;
        var f = new Fields(this, now);
        if (!SampleFields.TryRead(ref reader, ref f, ref problem)) return false;
        if (f.MemoryUsed > f.MemoryTotal)
            return problem.Set(RejectionReason.MemoryUsedExceedsTotal, $"memory_used_mib {f.MemoryUsed} exceeds memory_total_mib {f.MemoryTotal}");

        sample = new UsageSample(f.Time, f.GpuId, f.ProviderId, (float)f.Utilization, f.MemoryUsed, f.MemoryTotal, (float)f.Temperature, (float)f.Power,
            (int?)f.SmClock, (int?)f.MemClock, f.EccErrors);
        return true;
    }

    private struct Fields(UsageDecoder decoder, DateTimeOffset now) : ISampleFields
    {
        private const int GpuIdBit = 1 << 0, ProviderIdBit = 1 << 1, TsBit = 1 << 2, UtilizationPctBit = 1 << 3,
            MemoryUsedMibBit = 1 << 4, MemoryTotalMibBit = 1 << 5, TemperatureCBit = 1 << 6, PowerWBit = 1 << 7,
            SmClockMhzBit = 1 << 8, MemClockMhzBit = 1 << 9, EccErrorsBit = 1 << 10;

        public static int Optional => SmClockMhzBit | MemClockMhzBit | EccErrorsBit;

        public static (int Field, string Name)[] Required { get; } =
        [
            (GpuIdBit, "gpu_id"), (ProviderIdBit, "provider_id"), (TsBit, "ts"), (UtilizationPctBit, "utilization_pct"),
            (MemoryUsedMibBit, "memory_used_mib"), (MemoryTotalMibBit, "memory_total_mib"), (TemperatureCBit, "temperature_c"),
            (PowerWBit, "power_w"),
        ];

        public string GpuId = "", ProviderId = "";
        public DateTimeOffset Time;
        public double Utilization, Temperature, Power;
        public long MemoryUsed, MemoryTotal;
        public long? SmClock, MemClock, EccErrors;

        public void Read(int field, string name, ref Utf8JsonReader reader, ref ElementProblem problem)
        {
            switch (field)
            {
                case GpuIdBit:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxIdBytes, decoder._gpuIds, out GpuId, ref problem);
                    break;
                case ProviderIdBit:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxIdBytes, decoder._providerIds, out ProviderId, ref problem);
                    break;
                case TsBit:
                    JsonFieldReader.TryReadTimestamp(ref reader, name, decoder.Rules, now, out Time, ref problem);
                    break;
                case UtilizationPctBit:
                    JsonFieldReader.TryReadDouble(ref reader, name, SampleLimits.MinUtilizationPct, SampleLimits.MaxUtilizationPct, out Utilization, ref problem);
                    break;
                case MemoryUsedMibBit:
                    JsonFieldReader.TryReadInt64(ref reader, name, 0, SampleLimits.MaxMemoryMib, out MemoryUsed, ref problem);
                    break;
                case MemoryTotalMibBit:
                    JsonFieldReader.TryReadInt64(ref reader, name, 1, SampleLimits.MaxMemoryMib, out MemoryTotal, ref problem);
                    break;
                case TemperatureCBit:
                    JsonFieldReader.TryReadDouble(ref reader, name, SampleLimits.MinTemperatureC, SampleLimits.MaxTemperatureC, out Temperature, ref problem);
                    break;
                case PowerWBit:
                    JsonFieldReader.TryReadDouble(ref reader, name, SampleLimits.MinPowerW, SampleLimits.MaxPowerW, out Power, ref problem);
                    break;
                case SmClockMhzBit:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, SampleLimits.MaxClockMhz, out var sm, ref problem)) SmClock = sm;
                    break;
                case MemClockMhzBit:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, SampleLimits.MaxClockMhz, out var mem, ref problem)) MemClock = mem;
                    break;
                case EccErrorsBit:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, long.MaxValue, out var ecc, ref problem)) EccErrors = ecc;
                    break;
            }
        }

        public static int Match(ReadOnlySpan<byte> name, out string text)
        {
            (var field, text) = name.Length switch
            {
                2 when name.SequenceEqual("ts"u8) => (TsBit, "ts"),
                6 when name.SequenceEqual("gpu_id"u8) => (GpuIdBit, "gpu_id"),
                7 when name.SequenceEqual("power_w"u8) => (PowerWBit, "power_w"),
                10 when name.SequenceEqual("ecc_errors"u8) => (EccErrorsBit, "ecc_errors"),
                11 when name.SequenceEqual("provider_id"u8) => (ProviderIdBit, "provider_id"),
                12 when name.SequenceEqual("sm_clock_mhz"u8) => (SmClockMhzBit, "sm_clock_mhz"),
                13 when name.SequenceEqual("temperature_c"u8) => (TemperatureCBit, "temperature_c"),
                13 when name.SequenceEqual("mem_clock_mhz"u8) => (MemClockMhzBit, "mem_clock_mhz"),
                15 when name.SequenceEqual("utilization_pct"u8) => (UtilizationPctBit, "utilization_pct"),
                15 when name.SequenceEqual("memory_used_mib"u8) => (MemoryUsedMibBit, "memory_used_mib"),
                16 when name.SequenceEqual("memory_total_mib"u8) => (MemoryTotalMibBit, "memory_total_mib"),
                _ => (0, ""),
            };
            return field;
        }
    }
}
