using System.Text.Json;

namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Decodes gpu.heartbeat.v1 message values (docs/agent-protocol.md); same approach and threading
/// contract as <see cref="UsageDecoder"/>: one instance per consumer.
/// </summary>
public sealed class HeartbeatDecoder(ValidationRules rules) : ISampleReader<HeartbeatSample>
{
    // Ids and versions all repeat across heartbeats.
    private readonly Utf8StringInterner _gpuIds = new(UsageDecoder.InternedIdCapacity);
    private readonly Utf8StringInterner _providerIds = new(UsageDecoder.InternedIdCapacity);
    private readonly Utf8StringInterner _versions = new(UsageDecoder.InternedIdCapacity);

    public ValidationRules Rules { get; } = rules;

    /// <summary>Same contract as <see cref="UsageDecoder.Decode"/>.</summary>
    public void Decode(ReadOnlySpan<byte> value, List<HeartbeatSample> accepted, List<Rejection> rejected) =>
        MessageFraming.Decode(value, Rules, this, accepted, rejected);

    bool ISampleReader<HeartbeatSample>.TryRead(ref Utf8JsonReader reader, DateTimeOffset now, out HeartbeatSample sample, ref ElementProblem problem)
    {
        sample = default;
        var f = new Fields(this, now);
        if (!SampleFields.TryRead(ref reader, ref f, ref problem)) return false;
        sample = new HeartbeatSample(f.Time, f.GpuId, f.ProviderId, f.Status, f.AgentVersion, f.DriverVersion, f.Uptime);
        return true;
    }

    private struct Fields(HeartbeatDecoder decoder, DateTimeOffset now) : ISampleFields
    {
        private const int GpuIdBit = 1 << 0, ProviderIdBit = 1 << 1, TsBit = 1 << 2, StatusBit = 1 << 3,
            AgentVersionBit = 1 << 4, DriverVersionBit = 1 << 5, UptimeSBit = 1 << 6;

        public static int Optional => UptimeSBit;

        public static (int Field, string Name)[] Required { get; } =
        [
            (GpuIdBit, "gpu_id"), (ProviderIdBit, "provider_id"), (TsBit, "ts"), (StatusBit, "status"),
            (AgentVersionBit, "agent_version"), (DriverVersionBit, "driver_version"),
        ];

        public string GpuId = "", ProviderId = "", Status = "", AgentVersion = "", DriverVersion = "";
        public DateTimeOffset Time;
        public long? Uptime;

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
                case StatusBit:
                    JsonFieldReader.TryReadStatus(ref reader, name, out Status, ref problem);
                    break;
                case AgentVersionBit:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxVersionBytes, decoder._versions, out AgentVersion, ref problem);
                    break;
                case DriverVersionBit:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxVersionBytes, decoder._versions, out DriverVersion, ref problem);
                    break;
                case UptimeSBit:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, long.MaxValue, out var up, ref problem)) Uptime = up;
                    break;
            }
        }

        public static int Match(ReadOnlySpan<byte> name, out string text)
        {
            (var field, text) = name.Length switch
            {
                2 when name.SequenceEqual("ts"u8) => (TsBit, "ts"),
                6 when name.SequenceEqual("gpu_id"u8) => (GpuIdBit, "gpu_id"),
                6 when name.SequenceEqual("status"u8) => (StatusBit, "status"),
                8 when name.SequenceEqual("uptime_s"u8) => (UptimeSBit, "uptime_s"),
                11 when name.SequenceEqual("provider_id"u8) => (ProviderIdBit, "provider_id"),
                13 when name.SequenceEqual("agent_version"u8) => (AgentVersionBit, "agent_version"),
                14 when name.SequenceEqual("driver_version"u8) => (DriverVersionBit, "driver_version"),
                _ => (0, ""),
            };
            return field;
        }
    }
}
