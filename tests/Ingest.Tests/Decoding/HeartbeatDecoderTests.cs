using Pipeline.Ingest.Decoding;
using static Pipeline.Ingest.Tests.Decoding.DecodingFixtures;

namespace Pipeline.Ingest.Tests.Decoding;

/// <summary>gpu.heartbeat.v1: accepted forms and the rules that differ from usage samples.</summary>
public class HeartbeatDecoderTests
{
    private static Rejection RejectOne(string json)
    {
        var (accepted, rejected) = DecodeHeartbeat(json);
        Assert.Empty(accepted);
        return Assert.Single(rejected);
    }

    [Fact]
    public void Single_heartbeat_decodes_every_field()
    {
        var (accepted, rejected) = DecodeHeartbeat(Heartbeat(("ts", "1772366340000")));

        Assert.Empty(rejected);
        Assert.Equal(
            new HeartbeatSample(Now.AddMinutes(-1), "gpu-0001", "prov-a", "healthy", "1.4.2", "550.54.15", 86400),
            Assert.Single(accepted));
    }

    [Theory]
    [InlineData("\"healthy\"", HeartbeatStatus.Healthy)]
    [InlineData("\"degraded\"", HeartbeatStatus.Degraded)]
    [InlineData("\"unhealthy\"", HeartbeatStatus.Unhealthy)]
    [InlineData("\"h\\u0065althy\"", HeartbeatStatus.Healthy)]
    public void Each_status_is_accepted(string raw, string expected)
    {
        var (accepted, _) = DecodeHeartbeat(Heartbeat(("status", raw)));

        Assert.Equal(expected, Assert.Single(accepted).Status);
    }

    [Theory]
    [InlineData("\"HEALTHY\"")]
    [InlineData("\"ok\"")]
    [InlineData("\"\"")]
    [InlineData("\"healthy \"")]
    public void Unknown_status_is_rejected(string raw)
    {
        var rejection = RejectOne(Heartbeat(("status", raw)));

        Assert.Equal(RejectionReason.InvalidStatus, rejection.Reason);
        Assert.Contains("healthy, degraded, unhealthy", rejection.Detail);
    }

    [Fact]
    public void Status_of_the_wrong_type_is_rejected()
    {
        Assert.Equal(RejectionReason.WrongType, RejectOne(Heartbeat(("status", "1"))).Reason);
    }

    [Theory]
    [InlineData("gpu_id")]
    [InlineData("provider_id")]
    [InlineData("ts")]
    [InlineData("status")]
    [InlineData("agent_version")]
    [InlineData("driver_version")]
    public void Missing_required_field_is_rejected(string field)
    {
        var rejection = RejectOne(Heartbeat((field, null)));

        Assert.Equal(new Rejection(null, RejectionReason.MissingField, $"{field} is missing"), rejection);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("null")]
    public void Uptime_is_optional(string? raw)
    {
        var (accepted, rejected) = DecodeHeartbeat(Heartbeat(("uptime_s", raw)));

        Assert.Empty(rejected);
        Assert.Null(Assert.Single(accepted).UptimeS);
    }

    [Fact]
    public void Negative_uptime_is_rejected()
    {
        Assert.Equal(RejectionReason.OutOfRange, RejectOne(Heartbeat(("uptime_s", "-1"))).Reason);
    }

    [Theory]
    [InlineData("agent_version")]
    [InlineData("driver_version")]
    public void Version_longer_than_64_bytes_is_rejected(string field)
    {
        var rejection = RejectOne(Heartbeat((field, $"\"{new string('9', 65)}\"")));

        Assert.Equal(RejectionReason.InvalidString, rejection.Reason);
        Assert.StartsWith(field, rejection.Detail);
    }

    [Fact]
    public void Timestamp_rules_apply_to_heartbeats()
    {
        var json = "[" + Heartbeat(("ts", "\"2026-03-01T13:00:00Z\"")) + "," + Heartbeat(("ts", "\"2025-01-01T00:00:00Z\"")) + ","
            + Heartbeat(("ts", "\"2026-03-01 11:00:00\"")) + "]";

        var (accepted, rejected) = DecodeHeartbeat(json);

        Assert.Empty(accepted);
        Assert.Equal(
            [(0, RejectionReason.TimestampInFuture), (1, RejectionReason.TimestampTooOld), (2, RejectionReason.InvalidTimestamp)],
            rejected.Select(r => (r.ElementIndex ?? -1, r.Reason)));
    }

    [Fact]
    public void Bad_heartbeat_in_an_array_rejects_only_itself()
    {
        var json = "[" + Heartbeat() + "," + Heartbeat(("status", "\"sleepy\"")) + "," + Heartbeat(("gpu_id", "\"gpu-0002\""), ("extra", "{\"a\":[1]}")) + "]";

        var (accepted, rejected) = DecodeHeartbeat(json);

        Assert.Equal(["gpu-0001", "gpu-0002"], accepted.Select(h => h.GpuId));
        Assert.Equal(new Rejection(1, RejectionReason.InvalidStatus, "status is \"sleepy\"; expected one of healthy, degraded, unhealthy"), Assert.Single(rejected));
    }

    [Fact]
    public void Whole_message_rules_apply_to_heartbeats()
    {
        Assert.Equal(RejectionReason.EmptyValue, RejectOne("").Reason);
        Assert.Equal(RejectionReason.MalformedJson, RejectOne("{\"status\":").Reason);
        Assert.Equal(RejectionReason.NotAnObject, RejectOne("\"healthy\"").Reason);
    }
}
