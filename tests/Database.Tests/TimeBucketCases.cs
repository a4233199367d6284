namespace Pipeline.Database.Tests;

/// <summary>
/// time_bucket() inputs whose answers both modes must agree on, and the answer TimescaleDB gives:
/// fixed-width buckets counted from Monday 2000-01-03 00:00 UTC.
/// </summary>
public static class TimeBucketCases
{
    private static readonly DateTimeOffset Origin = new(2000, 1, 3, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string> All => new()
    {
        { "5 minutes", "2024-03-07T12:07:30Z" },
        { "5 minutes", "2024-03-07T12:05:00Z" },
        { "5 minutes", "2024-03-07T12:04:59.999999Z" },
        { "1 minute", "2024-03-07T12:07:30.5Z" },
        { "15 seconds", "2024-03-07T12:07:31Z" },
        { "1 hour", "2024-03-07T23:59:59Z" },
        { "90 minutes", "2024-03-07T01:00:00Z" },
        { "1 day", "2024-03-07T23:59:59Z" },
        { "3 days", "2024-03-07T10:00:00Z" },
        { "7 days", "2024-03-07T10:00:00Z" },
        { "1 week", "2024-03-10T23:00:00Z" },
        { "1 week", "1999-12-30T00:00:00Z" },
        { "10 minutes", "1970-01-01T00:03:00Z" },
    };

    public static DateTimeOffset Expected(string width, string at)
    {
        var ts = DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture);
        var parts = width.Split(' ');
        var n = int.Parse(parts[0]);
        var size = parts[1].TrimEnd('s') switch
        {
            "second" => TimeSpan.FromSeconds(n),
            "minute" => TimeSpan.FromMinutes(n),
            "hour" => TimeSpan.FromHours(n),
            "day" => TimeSpan.FromDays(n),
            "week" => TimeSpan.FromDays(7 * n),
            var unit => throw new ArgumentException("unknown unit " + unit),
        };
        var buckets = Math.Floor((ts - Origin).Ticks / (double)size.Ticks);
        return Origin + TimeSpan.FromTicks((long)buckets * size.Ticks);
    }
}
