using System.Text;
using Pipeline.Ingest.Decoding;
using static Pipeline.Ingest.Tests.Decoding.DecodingFixtures;

namespace Pipeline.Ingest.Tests.Decoding;

/// <summary>The forms of gpu.usage.v1 values that agents may send and what each decodes to.</summary>
public class UsageDecoderAcceptanceTests
{
    [Fact]
    public void Single_object_decodes_every_field()
    {
        var (accepted, rejected) = DecodeUsage(Usage());

        Assert.Empty(rejected);
        var s = Assert.Single(accepted);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 11, 59, 0, TimeSpan.Zero), s.Time);
        Assert.Equal(TimeSpan.Zero, s.Time.Offset);
        Assert.Equal("gpu-0001", s.GpuId);
        Assert.Equal("prov-a", s.ProviderId);
        Assert.Equal(87.5f, s.UtilizationPct);
        Assert.Equal(40960, s.MemoryUsedMib);
        Assert.Equal(81920, s.MemoryTotalMib);
        Assert.Equal((float)71.2, s.TemperatureC);
        Assert.Equal((float)612.4, s.PowerW);
        Assert.Equal(1980, s.SmClockMhz);
        Assert.Equal(2619, s.MemClockMhz);
        Assert.Equal(0L, s.EccErrors);
    }

    [Fact]
    public void Array_yields_each_sample_in_order()
    {
        var json = "[" + string.Join(",", Enumerable.Range(0, 10).Select(i => Usage(("ts", $"\"2026-03-01T11:59:{i:00}Z\"")))) + "]";

        var (accepted, rejected) = DecodeUsage(json);

        Assert.Empty(rejected);
        Assert.Equal(10, accepted.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => Now.AddMinutes(-1).AddSeconds(i)), accepted.Select(s => s.Time));
    }

    [Theory]
    [InlineData("1772366340000", "2026-03-01T11:59:00.0000000+00:00")]
    [InlineData("1772366340123", "2026-03-01T11:59:00.1230000+00:00")]
    [InlineData("1772366340123.4567", "2026-03-01T11:59:00.1234560+00:00")] // fractional ms, truncated to microseconds
    [InlineData("1.77236634e12", "2026-03-01T11:59:00.0000000+00:00")]
    public void Epoch_milliseconds_are_accepted(string raw, string expected)
    {
        var (accepted, rejected) = DecodeUsage(Usage(("ts", raw)));

        Assert.Empty(rejected);
        Assert.Equal(DateTimeOffset.Parse(expected), Assert.Single(accepted).Time);
    }

    [Theory]
    [InlineData("2026-03-01T11:59:00Z", "2026-03-01T11:59:00.0000000Z")]
    [InlineData("2026-03-01T13:29:00+01:30", "2026-03-01T11:59:00.0000000Z")]
    [InlineData("2026-03-01T06:59:00-05:00", "2026-03-01T11:59:00.0000000Z")]
    [InlineData("2026-03-01T11:59:00.5+00:00", "2026-03-01T11:59:00.5000000Z")]
    [InlineData("2026-03-01T11:59:00.123456789Z", "2026-03-01T11:59:00.1234560Z")] // nanoseconds truncated to microseconds
    [InlineData("2026-03-01t11:59:00z", "2026-03-01T11:59:00.0000000Z")]
    [InlineData("2026-03-01 11:59:00Z", "2026-03-01T11:59:00.0000000Z")]
    [InlineData("2026-03-02T00:30:00+12:31", "2026-03-01T11:59:00.0000000Z")] // the offset crosses midnight
    public void Rfc3339_with_offset_is_accepted_and_normalised_to_utc(string ts, string expectedUtc)
    {
        var (accepted, rejected) = DecodeUsage(Usage(("ts", $"\"{ts}\"")));

        Assert.Empty(rejected);
        var time = Assert.Single(accepted).Time;
        Assert.Equal(DateTimeOffset.Parse(expectedUtc), time);
        Assert.Equal(TimeSpan.Zero, time.Offset);
    }

    [Fact]
    public void Unknown_fields_are_ignored_whatever_their_shape()
    {
        var json = Usage(
            ("agent", "{\"name\":\"nv-agent\",\"build\":{\"sha\":\"abc\",\"flags\":[1,2,{\"x\":null}]}}"),
            ("processes", "[{\"pid\":1,\"mem\":[1,2,3]},[],[[]]]"),
            ("note", "\"utilization_pct\""),
            ("fan_pct", "1e999"),
            ("flag", "true"),
            ("nothing", "null"));

        var (accepted, rejected) = DecodeUsage(json);

        Assert.Empty(rejected);
        Assert.Equal(87.5f, Assert.Single(accepted).UtilizationPct);
    }

    [Theory]
    [InlineData(null)] // absent
    [InlineData("null")]
    public void Optional_fields_may_be_absent_or_null(string? value)
    {
        var (accepted, rejected) = DecodeUsage(Usage(("sm_clock_mhz", value), ("mem_clock_mhz", value), ("ecc_errors", value)));

        Assert.Empty(rejected);
        var s = Assert.Single(accepted);
        Assert.Null(s.SmClockMhz);
        Assert.Null(s.MemClockMhz);
        Assert.Null(s.EccErrors);
    }

    [Fact]
    public void Whole_numbers_written_with_a_zero_fraction_or_exponent_are_accepted()
    {
        var (accepted, rejected) = DecodeUsage(Usage(("memory_used_mib", "40960.0"), ("memory_total_mib", "8.192e4")));

        Assert.Empty(rejected);
        Assert.Equal((40960L, 81920L), (accepted[0].MemoryUsedMib, accepted[0].MemoryTotalMib));
    }

    [Fact]
    public void Decimal_numbers_decode_as_the_general_parser_reads_them()
    {
        // Short decimals take a fast path; long, exponent and many-digit forms take the general one.
        var random = new Random(3);
        var texts = Enumerable.Range(0, 3000).Select(i => (i % 6) switch
        {
            0 => $"{random.Next(0, 10000)}.{random.Next(0, 10)}",
            1 => $"{random.Next(0, 10000)}.{random.Next(0, 1_000_000):D6}",
            2 => $"{random.Next(0, 10)}.{random.NextInt64(0, 100_000_000_000_000):D14}",
            3 => $"{random.Next(0, 1000)}.{random.NextInt64(0, 1_000_000_000_000_000_000):D18}",
            4 => $"{random.Next(1, 1000)}e{random.Next(-3, 1)}",
            _ => $"0.{new string('0', random.Next(0, 25))}{random.Next(1, 1000)}",
        }).Append("-0").Append("0.1").Append("9999.999999999999").ToList();
        var json = "[" + string.Join(",", texts.Select((t, i) => Usage(("ts", $"{1772366340000 + i}"), ("power_w", t.StartsWith('-') ? "0" : t), ("temperature_c", "-" + (t.StartsWith('-') ? "0" : "0.1"))))) + "]";

        var (accepted, rejected) = DecodeUsage(Encoding.UTF8.GetBytes(json), new ValidationRules(TimeSpan.FromMinutes(5), TimeSpan.FromDays(30), 4 << 20, new FixedClock(Now)));

        Assert.Empty(rejected);
        Assert.Equal(texts.Select(t => (float)double.Parse(t.StartsWith('-') ? "0" : t, System.Globalization.CultureInfo.InvariantCulture)), accepted.Select(s => s.PowerW));
        Assert.Equal(-0.1f, accepted[0].TemperatureC);
    }

    [Fact]
    public void Range_edges_are_accepted()
    {
        var (accepted, rejected) = DecodeUsage("[" + Usage(("utilization_pct", "0"), ("memory_used_mib", "0"), ("power_w", "0")) + ","
            + Usage(("utilization_pct", "100"), ("memory_used_mib", "81920"), ("temperature_c", "-50")) + "]");

        Assert.Empty(rejected);
        Assert.Equal(2, accepted.Count);
    }

    [Fact]
    public void Escaped_strings_and_property_names_are_unescaped()
    {
        var json = Usage(("gpu_id", "\"gpu\\u002d\\u00e9\\ud83d\\ude80\""), ("provider_id", null)).TrimEnd('}') + ",\"provider\\u005fid\":\"prov-a\"}";

        var (accepted, rejected) = DecodeUsage(json);

        Assert.Empty(rejected);
        Assert.Equal("gpu-\u00e9\U0001F680", accepted[0].GpuId);
        Assert.Equal("prov-a", accepted[0].ProviderId);
    }

    [Fact]
    public void Repeated_ids_share_one_string_instance()
    {
        var decoder = new UsageDecoder(Rules);
        var accepted = new List<UsageSample>();
        var rejected = new List<Rejection>();

        decoder.Decode(Encoding.UTF8.GetBytes(Usage(("ts", "\"2026-03-01T11:59:00Z\""))), accepted, rejected);
        decoder.Decode(Encoding.UTF8.GetBytes(Usage(("ts", "\"2026-03-01T11:59:01Z\""))), accepted, rejected);

        Assert.Equal(2, accepted.Count);
        Assert.Same(accepted[0].GpuId, accepted[1].GpuId);
        Assert.Same(accepted[0].ProviderId, accepted[1].ProviderId);
    }

    [Fact]
    public void Byte_order_mark_and_surrounding_whitespace_are_tolerated()
    {
        var value = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("\r\n  " + Usage() + " \n")).ToArray();

        var (accepted, rejected) = DecodeUsage(value);

        Assert.Empty(rejected);
        Assert.Single(accepted);
    }

    [Fact]
    public void Timestamp_within_the_future_skew_is_accepted()
    {
        var (accepted, rejected) = DecodeUsage(Usage(("ts", "\"2026-03-01T12:05:00Z\"")));

        Assert.Empty(rejected);
        Assert.Single(accepted);
    }

    [Fact]
    public void Decode_appends_to_lists_that_already_hold_results()
    {
        var decoder = new UsageDecoder(Rules);
        var accepted = new List<UsageSample>();
        var rejected = new List<Rejection>();

        decoder.Decode(Encoding.UTF8.GetBytes("[" + Usage() + ",7]"), accepted, rejected);
        decoder.Decode(Encoding.UTF8.GetBytes("[" + Usage() + ","), accepted, rejected);

        Assert.Single(accepted);
        Assert.Equal([RejectionReason.NotAnObject, RejectionReason.MalformedJson], rejected.Select(r => r.Reason));
    }
}
