namespace Pipeline.Ingest.Decoding;

/// <summary>
/// The configurable part of validation: how far ahead of the clock a timestamp may be, how old it
/// may be (the retention window: older rows would land in partitions that are already dropped),
/// and the largest message value decoded at all. Immutable; safe to share between decoders.
/// </summary>
public sealed class ValidationRules
{
    public ValidationRules(TimeSpan maxFutureSkew, TimeSpan retention, int maxValueBytes, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFutureSkew, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValueBytes, 1);
        MaxFutureSkew = maxFutureSkew;
        Retention = retention;
        MaxValueBytes = maxValueBytes;
        Clock = clock ?? TimeProvider.System;
    }

    /// <summary>Skew 5 minutes, retention 30 days, values up to 256 KiB.</summary>
    public static ValidationRules Default { get; } = new(TimeSpan.FromMinutes(5), TimeSpan.FromDays(30), 256 * 1024);

    public TimeSpan MaxFutureSkew { get; }
    public TimeSpan Retention { get; }
    public int MaxValueBytes { get; }
    public TimeProvider Clock { get; }
}
