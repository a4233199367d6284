using Pipeline.Ingest.Consuming;

namespace Pipeline.Ingest.Tests.Pipeline;

public sealed class RepeatedLogLimiterTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Repeats_within_the_interval_are_held_back_and_counted_on_the_next_line()
    {
        var clock = new ManualClock();
        var limiter = new RepeatedLogLimiter(TimeSpan.FromSeconds(10), clock);

        Assert.True(limiter.ShouldLog("refused", out var first));
        Assert.Equal(0, first);
        for (var i = 0; i < 5; i++)
        {
            clock.Now += TimeSpan.FromSeconds(1);
            Assert.False(limiter.ShouldLog("refused", out _));
        }
        Assert.True(limiter.ShouldLog("other key", out _));

        clock.Now += TimeSpan.FromSeconds(6);
        Assert.True(limiter.ShouldLog("refused", out var heldBack));
        Assert.Equal(5, heldBack);
    }
}
