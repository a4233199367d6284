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

    [Flags]
    private enum Field
    {
        None = 0,
        GpuId = 1 << 0,
        ProviderId = 1 << 1,
        Ts = 1 << 2,
        Status = 1 << 3,
        AgentVersion = 1 << 4,
        DriverVersion = 1 << 5,
        UptimeS = 1 << 6,
        Optional = UptimeS,
    }

    private static readonly (Field Field, string Name)[] Required =
    [
        (Field.GpuId, "gpu_id"), (Field.ProviderId, "provider_id"), (Field.Ts, "ts"), (Field.Status, "status"),
        (Field.AgentVersion, "agent_version"), (Field.DriverVersion, "driver_version"),
    ];

    bool ISampleReader<HeartbeatSample>.TryRead(ref Utf8JsonReader reader, DateTimeOffset now, out HeartbeatSample sample, ref ElementProblem problem)
    {
        sample = default;
        var seen = Field.None;
        string gpuId = "", providerId = "", status = "", agentVersion = "", driverVersion = "";
        DateTimeOffset time = default;
        long? uptime = null;
        Span<byte> nameBuffer = stackalloc byte[128];

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = Match(JsonFieldReader.PropertyName(in reader, nameBuffer), out var name);
            reader.Read();
            if (field == Field.None || problem.Found)
            {
                reader.Skip();
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
                case Field.Status:
                    JsonFieldReader.TryReadStatus(ref reader, name, out status, ref problem);
                    break;
                case Field.AgentVersion:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxVersionBytes, _versions, out agentVersion, ref problem);
                    break;
                case Field.DriverVersion:
                    JsonFieldReader.TryReadString(ref reader, name, SampleLimits.MaxVersionBytes, _versions, out driverVersion, ref problem);
                    break;
                case Field.UptimeS:
                    if (JsonFieldReader.TryReadInt64(ref reader, name, 0, long.MaxValue, out var up, ref problem)) uptime = up;
                    break;
            }
            reader.Skip();
        }

        if (problem.Found) return false;
        foreach (var (field, name) in Required)
        {
            if ((seen & field) == 0) return problem.Set(RejectionReason.MissingField, $"{name} is missing");
        }
        sample = new HeartbeatSample(time, gpuId, providerId, status, agentVersion, driverVersion, uptime);
        return true;
    }

    private static Field Match(ReadOnlySpan<byte> name, out string text)
    {
        (var field, text) = name.Length switch
        {
            2 when name.SequenceEqual("ts"u8) => (Field.Ts, "ts"),
            6 when name.SequenceEqual("gpu_id"u8) => (Field.GpuId, "gpu_id"),
            6 when name.SequenceEqual("status"u8) => (Field.Status, "status"),
            8 when name.SequenceEqual("uptime_s"u8) => (Field.UptimeS, "uptime_s"),
            11 when name.SequenceEqual("provider_id"u8) => (Field.ProviderId, "provider_id"),
            13 when name.SequenceEqual("agent_version"u8) => (Field.AgentVersion, "agent_version"),
            14 when name.SequenceEqual("driver_version"u8) => (Field.DriverVersion, "driver_version"),
            _ => (Field.None, ""),
        };
        return field;
    }
}
