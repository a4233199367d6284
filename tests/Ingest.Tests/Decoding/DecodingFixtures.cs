using System.Text;
using Pipeline.Ingest.Decoding;

namespace Pipeline.Ingest.Tests.Decoding;

/// <summary>A clock that stands still, so timestamp windows are exact.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>Builds sample JSON from named raw JSON values, so each test changes only what it is about.</summary>
internal static class DecodingFixtures
{
    public static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static ValidationRules Rules { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(30), 256 * 1024, new FixedClock(Now));

    public static Dictionary<string, string> UsageFields() => new()
    {
        ["gpu_id"] = "\"gpu-0001\"",
        ["provider_id"] = "\"prov-a\"",
        ["ts"] = "\"2026-03-01T11:59:00Z\"",
        ["utilization_pct"] = "87.5",
        ["memory_used_mib"] = "40960",
        ["memory_total_mib"] = "81920",
        ["temperature_c"] = "71.2",
        ["power_w"] = "612.4",
        ["sm_clock_mhz"] = "1980",
        ["mem_clock_mhz"] = "2619",
        ["ecc_errors"] = "0",
    };

    public static Dictionary<string, string> HeartbeatFields() => new()
    {
        ["gpu_id"] = "\"gpu-0001\"",
        ["provider_id"] = "\"prov-a\"",
        ["ts"] = "\"2026-03-01T11:59:00Z\"",
        ["status"] = "\"healthy\"",
        ["agent_version"] = "\"1.4.2\"",
        ["driver_version"] = "\"550.54.15\"",
        ["uptime_s"] = "86400",
    };

    /// <summary>The fields as one JSON object; a null override removes the field.</summary>
    public static string Object(Dictionary<string, string> fields, params (string Name, string? RawJson)[] overrides)
    {
        var copy = new Dictionary<string, string>(fields);
        foreach (var (name, raw) in overrides)
        {
            if (raw is null) copy.Remove(name);
            else copy[name] = raw;
        }
        return "{" + string.Join(",", copy.Select(kv => $"\"{kv.Key}\":{kv.Value}")) + "}";
    }

    public static string Usage(params (string Name, string? RawJson)[] overrides) => Object(UsageFields(), overrides);
    public static string Heartbeat(params (string Name, string? RawJson)[] overrides) => Object(HeartbeatFields(), overrides);

    public static (List<UsageSample> Accepted, List<Rejection> Rejected) DecodeUsage(string json) => DecodeUsage(Encoding.UTF8.GetBytes(json));

    public static (List<UsageSample> Accepted, List<Rejection> Rejected) DecodeUsage(byte[] value, ValidationRules? rules = null)
    {
        var accepted = new List<UsageSample>();
        var rejected = new List<Rejection>();
        new UsageDecoder(rules ?? Rules).Decode(value, accepted, rejected);
        return (accepted, rejected);
    }

    public static (List<HeartbeatSample> Accepted, List<Rejection> Rejected) DecodeHeartbeat(string json)
    {
        var accepted = new List<HeartbeatSample>();
        var rejected = new List<Rejection>();
        new HeartbeatDecoder(Rules).Decode(Encoding.UTF8.GetBytes(json), accepted, rejected);
        return (accepted, rejected);
    }
}
