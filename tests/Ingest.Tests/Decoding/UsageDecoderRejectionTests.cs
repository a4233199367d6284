using System.Text;
using Pipeline.Ingest.Decoding;
using static Pipeline.Ingest.Tests.Decoding.DecodingFixtures;

namespace Pipeline.Ingest.Tests.Decoding;

/// <summary>One test (or row) per rejection rule of gpu.usage.v1; docs/agent-protocol.md lists the same rules.</summary>
public class UsageDecoderRejectionTests
{
    private static Rejection RejectOne(string json)
    {
        var (accepted, rejected) = DecodeUsage(json);
        Assert.Empty(accepted);
        var rejection = Assert.Single(rejected);
        Assert.Null(rejection.ElementIndex);
        return rejection;
    }

    [Theory]
    [InlineData("gpu_id")]
    [InlineData("provider_id")]
    [InlineData("ts")]
    [InlineData("utilization_pct")]
    [InlineData("memory_used_mib")]
    [InlineData("memory_total_mib")]
    [InlineData("temperature_c")]
    [InlineData("power_w")]
    public void Missing_required_field_is_rejected(string field)
    {
        var rejection = RejectOne(Usage((field, null)));

        Assert.Equal(RejectionReason.MissingField, rejection.Reason);
        Assert.Equal($"{field} is missing", rejection.Detail);
    }

    [Theory]
    [InlineData("gpu_id")]
    [InlineData("ts")]
    [InlineData("power_w")]
    public void Null_required_field_is_rejected_as_missing(string field)
    {
        var rejection = RejectOne(Usage((field, "null")));

        Assert.Equal(RejectionReason.MissingField, rejection.Reason);
        Assert.Contains(field, rejection.Detail);
    }

    [Theory]
    [InlineData("gpu_id", "17")]
    [InlineData("provider_id", "[\"prov-a\"]")]
    [InlineData("utilization_pct", "\"87.5\"")]
    [InlineData("memory_used_mib", "true")]
    [InlineData("memory_total_mib", "{\"value\":81920}")]
    [InlineData("temperature_c", "false")]
    [InlineData("power_w", "\"612\"")]
    [InlineData("sm_clock_mhz", "\"1980\"")]
    [InlineData("ecc_errors", "[]")]
    [InlineData("ts", "true")]
    [InlineData("ts", "{\"seconds\":1}")]
    [InlineData("memory_used_mib", "40960.5")]
    public void Wrong_type_is_rejected(string field, string raw)
    {
        var rejection = RejectOne(Usage((field, raw)));

        Assert.Equal(RejectionReason.WrongType, rejection.Reason);
        Assert.StartsWith(field + " is ", rejection.Detail);
    }

    [Theory]
    [InlineData("utilization_pct", "\"NaN\"")]
    [InlineData("temperature_c", "\"Infinity\"")]
    [InlineData("power_w", "\"-Infinity\"")]
    [InlineData("power_w", "\"inf\"")]
    [InlineData("utilization_pct", "1e999")]
    [InlineData("temperature_c", "-1e999")]
    [InlineData("memory_used_mib", "1e999")]
    [InlineData("memory_used_mib", "\"NaN\"")]
    public void Non_finite_number_is_rejected(string field, string raw)
    {
        var rejection = RejectOne(Usage((field, raw)));

        Assert.Equal(RejectionReason.NotFinite, rejection.Reason);
        Assert.StartsWith(field + " is ", rejection.Detail);
    }

    [Theory]
    [InlineData("utilization_pct", "100.01")]
    [InlineData("utilization_pct", "-0.5")]
    [InlineData("memory_used_mib", "-1")]
    [InlineData("memory_total_mib", "0")]
    [InlineData("memory_total_mib", "-81920")]
    [InlineData("memory_total_mib", "99999999999")]
    [InlineData("memory_used_mib", "1e300")]
    [InlineData("temperature_c", "151")]
    [InlineData("temperature_c", "-273.15")]
    [InlineData("power_w", "-3")]
    [InlineData("power_w", "100000")]
    [InlineData("sm_clock_mhz", "-1")]
    [InlineData("mem_clock_mhz", "1000001")]
    [InlineData("ecc_errors", "-1")]
    public void Out_of_range_value_is_rejected(string field, string raw)
    {
        var rejection = RejectOne(Usage((field, raw)));

        Assert.Equal(RejectionReason.OutOfRange, rejection.Reason);
        Assert.StartsWith(field + " is ", rejection.Detail);
    }

    [Fact]
    public void Memory_used_above_total_is_rejected()
    {
        var rejection = RejectOne(Usage(("memory_used_mib", "81921"), ("memory_total_mib", "81920")));

        Assert.Equal(RejectionReason.MemoryUsedExceedsTotal, rejection.Reason);
        Assert.Equal("memory_used_mib 81921 exceeds memory_total_mib 81920", rejection.Detail);
    }

    [Theory]
    [InlineData("gpu_id", "\"\"")]
    [InlineData("provider_id", "\"\"")]
    [InlineData("gpu_id", "\"tab\\there\"")]
    [InlineData("gpu_id", "\"nul\\u0000\"")]
    [InlineData("gpu_id", "\"lone\\ud800surrogate\"")]
    public void Empty_or_unprintable_id_is_rejected(string field, string raw)
    {
        var rejection = RejectOne(Usage((field, raw)));

        Assert.Equal(RejectionReason.InvalidString, rejection.Reason);
        Assert.StartsWith(field + " is", rejection.Detail);
    }

    [Theory]
    [InlineData(129, false)]
    [InlineData(128, true)]
    public void Id_longer_than_128_bytes_is_rejected(int length, bool accepted)
    {
        var (ok, rejected) = DecodeUsage(Usage(("gpu_id", $"\"{new string('g', length)}\"")));

        Assert.Equal(accepted ? 1 : 0, ok.Count);
        if (!accepted) Assert.Equal(RejectionReason.InvalidString, Assert.Single(rejected).Reason);
    }

    [Fact]
    public void Id_that_only_escapes_push_over_the_limit_is_rejected()
    {
        // 100 two-byte characters written as \u escapes: 600 bytes raw, 200 bytes of UTF-8.
        var escaped = string.Concat(Enumerable.Repeat("\\u00e9", 100));

        var rejection = RejectOne(Usage(("gpu_id", $"\"{escaped}\"")));

        Assert.Equal(RejectionReason.InvalidString, rejection.Reason);
    }

    [Theory]
    [InlineData("\"2026-03-01T11:59:00\"")]          // no offset
    [InlineData("\"2026-03-01\"")]
    [InlineData("\"2026-02-30T11:59:00Z\"")]
    [InlineData("\"2026-03-01T24:00:00Z\"")]
    [InlineData("\"2026-03-01T11:59:60Z\"")]         // leap second
    [InlineData("\"2026-03-01T11:59:00.Z\"")]
    [InlineData("\"2026-03-01T11:59:00+0100\"")]
    [InlineData("\"2026-03-01T11:59:00Z \"")]
    [InlineData("\"yesterday\"")]
    [InlineData("\"1772366340000\"")]                // epoch as a string
    [InlineData("\"0000-01-01T00:00:00Z\"")]
    [InlineData("-1")]
    [InlineData("1e20")]
    public void Unparseable_timestamp_is_rejected(string raw)
    {
        var rejection = RejectOne(Usage(("ts", raw)));

        Assert.Equal(RejectionReason.InvalidTimestamp, rejection.Reason);
        Assert.StartsWith("ts is ", rejection.Detail);
    }

    [Theory]
    [InlineData("\"2026-03-01T12:05:00.000001Z\"")]
    [InlineData("\"2026-03-01T14:00:00+01:00\"")]
    [InlineData("1772368000000")]
    public void Timestamp_beyond_the_future_skew_is_rejected(string raw)
    {
        var rejection = RejectOne(Usage(("ts", raw)));

        Assert.Equal(RejectionReason.TimestampInFuture, rejection.Reason);
        Assert.Contains("ahead of the ingest clock", rejection.Detail);
    }

    [Theory]
    [InlineData("\"2026-01-30T11:59:59Z\"", false)]
    [InlineData("\"2025-03-01T12:00:00Z\"", false)]
    [InlineData("1772366340", true)]                 // epoch seconds sent as milliseconds
    public void Timestamp_older_than_retention_is_rejected(string raw, bool hintsAtSeconds)
    {
        var rejection = RejectOne(Usage(("ts", raw)));

        Assert.Equal(RejectionReason.TimestampTooOld, rejection.Reason);
        Assert.Equal(hintsAtSeconds, rejection.Detail.Contains("epoch seconds"));
    }

    [Fact]
    public void Timestamp_windows_follow_the_configured_rules()
    {
        var strict = new ValidationRules(TimeSpan.Zero, TimeSpan.FromMinutes(1), 1024, new FixedClock(Now));
        var json = "[" + Usage(("ts", "\"2026-03-01T12:00:00.001Z\"")) + "," + Usage(("ts", "\"2026-03-01T11:58:59Z\"")) + ","
            + Usage(("ts", "\"2026-03-01T11:59:30Z\"")) + "]";

        var (accepted, rejected) = DecodeUsage(Encoding.UTF8.GetBytes(json), strict);

        Assert.Single(accepted);
        Assert.Equal([RejectionReason.TimestampInFuture, RejectionReason.TimestampTooOld], rejected.Select(r => r.Reason));
    }

    [Fact]
    public void Field_given_twice_is_rejected()
    {
        var json = Usage().TrimEnd('}') + ",\"utilization_pct\":10}";

        var rejection = RejectOne(json);

        Assert.Equal(RejectionReason.DuplicateField, rejection.Reason);
        Assert.Equal("utilization_pct appears more than once", rejection.Detail);
    }

    [Fact]
    public void The_first_problem_in_a_sample_is_the_one_reported()
    {
        var rejection = RejectOne(Usage(("utilization_pct", "101"), ("power_w", "\"NaN\""), ("gpu_id", null)));

        Assert.Equal(RejectionReason.OutOfRange, rejection.Reason);
    }

    [Fact]
    public void Empty_value_is_rejected()
    {
        var (accepted, rejected) = DecodeUsage([]);

        Assert.Empty(accepted);
        Assert.Equal(new Rejection(null, RejectionReason.EmptyValue, "value is empty"), Assert.Single(rejected));
    }

    [Fact]
    public void Whitespace_only_value_is_rejected_as_empty()
    {
        Assert.Equal(RejectionReason.EmptyValue, RejectOne(" \r\n\t ").Reason);
    }

    [Fact]
    public void One_mebibyte_value_is_rejected_as_too_large()
    {
        var sample = Usage();
        var json = new StringBuilder("[").Append(sample);
        while (json.Length < 1024 * 1024) json.Append(',').Append(sample);
        var value = Encoding.UTF8.GetBytes(json.Append(']').ToString());

        var (accepted, rejected) = DecodeUsage(value);

        Assert.Empty(accepted);
        var rejection = Assert.Single(rejected);
        Assert.Equal(RejectionReason.ValueTooLarge, rejection.Reason);
        Assert.Null(rejection.ElementIndex);
        Assert.Contains("262144", rejection.Detail);
    }

    [Fact]
    public void Value_exactly_at_the_size_limit_is_decoded()
    {
        var value = Encoding.UTF8.GetBytes(Usage());
        var rules = new ValidationRules(TimeSpan.FromMinutes(5), TimeSpan.FromDays(30), value.Length, new FixedClock(Now));

        Assert.Single(DecodeUsage(value, rules).Accepted);
        Assert.Equal(RejectionReason.ValueTooLarge, Assert.Single(DecodeUsage([.. value, (byte)' '], rules).Rejected).Reason);
    }

    [Fact]
    public void Malformed_utf8_is_rejected_with_its_position()
    {
        var value = Encoding.UTF8.GetBytes(Usage(("gpu_id", "\"gpu-XX\"")));
        var at = Encoding.UTF8.GetString(value).IndexOf("XX", StringComparison.Ordinal);
        value[at] = 0xC3;      // a lead byte...
        value[at + 1] = 0x28;  // ...followed by one that cannot continue it

        var (accepted, rejected) = DecodeUsage(value);

        Assert.Empty(accepted);
        Assert.Equal(new Rejection(null, RejectionReason.InvalidUtf8, $"invalid UTF-8 at byte {at}"), Assert.Single(rejected));
    }

    [Theory]
    [InlineData("{\"gpu_id\":\"gpu-1\"")]
    [InlineData("{gpu_id:\"gpu-1\"}")]
    [InlineData("{\"gpu_id\":'gpu-1'}")]
    [InlineData("{\"power_w\":NaN}")]
    [InlineData("{\"power_w\":Infinity}")]
    [InlineData("{\"power_w\":01}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{} {}")]
    [InlineData("{}x")]
    [InlineData("// comment\n{}")]
    [InlineData("\"unterminated")]
    public void Malformed_json_is_rejected_as_a_whole(string value)
    {
        var rejection = RejectOne(value);

        Assert.Equal(RejectionReason.MalformedJson, rejection.Reason);
        Assert.NotEmpty(rejection.Detail);
    }

    [Fact]
    public void Nesting_deeper_than_64_levels_is_rejected_as_malformed()
    {
        var deep = new string('[', 70) + new string(']', 70);

        Assert.Equal(RejectionReason.MalformedJson, RejectOne(Usage(("extra", deep))).Reason);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("\"gpu-1\"")]
    [InlineData("true")]
    [InlineData("null")]
    public void Top_level_scalar_is_rejected(string value)
    {
        Assert.Equal(RejectionReason.NotAnObject, RejectOne(value).Reason);
    }

    [Fact]
    public void Empty_array_is_rejected()
    {
        Assert.Equal(RejectionReason.EmptyArray, RejectOne(" [ ] ").Reason);
    }

    [Fact]
    public void Bad_element_in_an_array_rejects_only_itself()
    {
        var json = "[" + Usage(("ts", "\"2026-03-01T11:59:00Z\"")) + ","
            + Usage(("ts", "\"2026-03-01T11:59:01Z\""), ("utilization_pct", "140")) + ","
            + Usage(("ts", "\"2026-03-01T11:59:02Z\"")) + ","
            + "[1,2]" + ","
            + Usage(("ts", "\"2026-03-01T11:59:04Z\""), ("memory_total_mib", null)) + ","
            + Usage(("ts", "\"2026-03-01T11:59:05Z\"")) + "]";

        var (accepted, rejected) = DecodeUsage(json);

        Assert.Equal([0, 2, 5], accepted.Select(s => s.Time.Second));
        Assert.Equal(
            [(1, RejectionReason.OutOfRange), (3, RejectionReason.NotAnObject), (4, RejectionReason.MissingField)],
            rejected.Select(r => (r.ElementIndex ?? -1, r.Reason)));
    }

    [Fact]
    public void Syntax_error_late_in_an_array_rejects_the_whole_message()
    {
        var json = "[" + Usage() + "," + Usage(("ts", "\"2026-03-01T11:59:01Z\""), ("power_w", "\"NaN\"")) + "," + Usage().TrimEnd('}');

        var rejection = RejectOne(json);

        Assert.Equal(RejectionReason.MalformedJson, rejection.Reason);
    }

    [Fact]
    public void Every_reason_code_is_snake_case_and_distinct()
    {
        Assert.Equal(RejectionReason.All.Count, RejectionReason.All.Distinct().Count());
        Assert.All(RejectionReason.All, code => Assert.Matches("^[a-z]+(_[a-z0-9]+)*$", code));
    }
}
