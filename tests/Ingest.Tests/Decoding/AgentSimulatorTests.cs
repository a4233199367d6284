using Pipeline.Ingest.Decoding;
using Pipeline.Ingest.Simulation;

namespace Pipeline.Ingest.Tests.Decoding;

/// <summary>The simulator's promise: every message decodes to exactly the samples and rejections it declares.</summary>
public class AgentSimulatorTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ValidationRules RulesAnHourLater =
        new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(30), 256 * 1024, new FixedClock(Start.AddHours(1)));

    private static SimulationPlan Plan(double invalid = 0, double duplicates = 0, int perMessage = 10) => new()
    {
        Gpus = 50,
        Providers = 6,
        SamplesPerMessage = perMessage,
        SampleInterval = TimeSpan.FromSeconds(1),
        Start = Start,
        HeartbeatInterval = TimeSpan.FromSeconds(30),
        InvalidFraction = invalid,
        DuplicateFraction = duplicates,
        Seed = 7,
    };

    private static void AssertDecodesAsDeclared(IEnumerable<SimulatedMessage> messages)
    {
        var usage = new UsageDecoder(RulesAnHourLater);
        var heartbeats = new HeartbeatDecoder(RulesAnHourLater);
        foreach (var message in messages)
        {
            var rejected = new List<Rejection>();
            if (message.Topic == AgentTopic.Usage)
            {
                var accepted = new List<UsageSample>();
                usage.Decode(message.Value, accepted, rejected);
                Assert.Equal(message.Usage, accepted);
                Assert.Empty(message.Heartbeats);
            }
            else
            {
                var accepted = new List<HeartbeatSample>();
                heartbeats.Decode(message.Value, accepted, rejected);
                Assert.Equal(message.Heartbeats, accepted);
                Assert.Empty(message.Usage);
            }
            Assert.Equal(message.Rejections, rejected.Select(r => new ExpectedRejection(r.ElementIndex, r.Reason)));
        }
    }

    [Fact]
    public void Valid_traffic_decodes_to_exactly_the_declared_samples()
    {
        var messages = new AgentSimulator(Plan()).Messages().Take(1500).ToList();

        AssertDecodesAsDeclared(messages);
        Assert.All(messages, m => Assert.False(m.IsInvalid));
        Assert.Contains(messages, m => m.Topic == AgentTopic.Heartbeat);
        Assert.Equal(messages.Count(m => m.Topic == AgentTopic.Usage) * 10, messages.Sum(m => m.Usage.Count));
    }

    [Fact]
    public void Broken_and_retried_traffic_decodes_to_exactly_the_declared_samples_and_rejections()
    {
        var messages = new AgentSimulator(Plan(invalid: 0.2, duplicates: 0.1)).Messages().Take(3000).ToList();

        AssertDecodesAsDeclared(messages);
        Assert.InRange(messages.Count(m => m.IsInvalid), 400, 800);
        Assert.InRange(messages.Count(m => m.IsRetry), 200, 400);
    }

    [Fact]
    public void Single_sample_messages_are_bare_objects()
    {
        var messages = new AgentSimulator(Plan(invalid: 0.3, perMessage: 1)).Messages().Take(500).ToList();

        AssertDecodesAsDeclared(messages);
        Assert.All(messages.Where(m => m.Value.Length > 0), m => Assert.NotEqual((byte)'[', m.Value[0]));
        Assert.All(messages.SelectMany(m => m.Rejections), r => Assert.Null(r.ElementIndex));
    }

    [Fact]
    public void Broken_messages_cover_every_rule_the_simulator_knows()
    {
        var reasons = new AgentSimulator(Plan(invalid: 1)).Messages().Take(2000)
            .SelectMany(m => m.Rejections).Select(r => r.Reason).ToHashSet();

        Assert.Superset(new HashSet<string>
        {
            RejectionReason.OutOfRange, RejectionReason.MissingField, RejectionReason.NotFinite, RejectionReason.MemoryUsedExceedsTotal,
            RejectionReason.TimestampInFuture, RejectionReason.TimestampTooOld, RejectionReason.WrongType, RejectionReason.MalformedJson,
            RejectionReason.InvalidUtf8, RejectionReason.EmptyValue, RejectionReason.NotAnObject, RejectionReason.InvalidStatus,
        }, reasons);
    }

    [Fact]
    public void Retries_resend_an_earlier_valid_message_byte_for_byte()
    {
        var messages = new AgentSimulator(Plan(invalid: 0.1, duplicates: 0.2)).Messages().Take(1000).ToList();
        var originals = messages.Where(m => !m.IsRetry).ToList();

        var retries = messages.Where(m => m.IsRetry).ToList();

        Assert.NotEmpty(retries);
        Assert.All(retries, r =>
        {
            Assert.False(r.IsInvalid);
            Assert.Contains(originals, o => o.Key == r.Key && o.Value.AsSpan().SequenceEqual(r.Value));
        });
    }

    [Fact]
    public void New_samples_never_share_gpu_and_timestamp()
    {
        var fresh = new AgentSimulator(Plan(invalid: 0.1, duplicates: 0.1)).Messages().Take(2000).Where(m => !m.IsRetry).ToList();

        var usageKeys = fresh.SelectMany(m => m.Usage).Select(s => (s.GpuId, s.Time)).ToList();
        var heartbeatKeys = fresh.SelectMany(m => m.Heartbeats).Select(h => (h.GpuId, h.Time)).ToList();

        Assert.Equal(usageKeys.Count, usageKeys.Distinct().Count());
        Assert.Equal(heartbeatKeys.Count, heartbeatKeys.Distinct().Count());
        Assert.All(fresh, m => Assert.All(m.Usage, s => Assert.Equal(m.Key, s.GpuId)));
    }

    [Fact]
    public void Same_plan_gives_the_same_bytes()
    {
        var first = new AgentSimulator(Plan(invalid: 0.1, duplicates: 0.1)).Messages().Take(300).Select(m => Convert.ToBase64String(m.Value));
        var second = new AgentSimulator(Plan(invalid: 0.1, duplicates: 0.1)).Messages().Take(300).Select(m => Convert.ToBase64String(m.Value));

        Assert.Equal(first, second);
    }

    [Fact]
    public void Agents_use_every_timestamp_form_and_send_unknown_fields()
    {
        var values = new AgentSimulator(Plan()).Messages().Take(200).Where(m => m.Topic == AgentTopic.Usage)
            .Select(m => System.Text.Encoding.UTF8.GetString(m.Value)).ToList();

        Assert.Contains(values, v => v.Contains("Z\",", StringComparison.Ordinal));                         // RFC 3339 UTC
        Assert.Contains(values, v => System.Text.RegularExpressions.Regex.IsMatch(v, "\"ts\":\"[^\"]+[+-]\\d\\d:\\d\\d\"")); // with an offset
        Assert.Contains(values, v => System.Text.RegularExpressions.Regex.IsMatch(v, "\"ts\":\\d{13}"));         // epoch ms
        Assert.Contains(values, v => v.Contains("\"pcie\":{", StringComparison.Ordinal));
    }
}
