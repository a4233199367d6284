using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>The partitioned mode's time_bucket() buckets like TimescaleDB's (origin Monday 2000-01-03 UTC).</summary>
public sealed class TimeBucketTests(SharedDatabase shared) : IClassFixture<SharedDatabase>
{
    private readonly TestDatabase _db = shared.Database;
    [Theory]
    [MemberData(nameof(TimeBucketCases.All), MemberType = typeof(TimeBucketCases))]
    public async Task Buckets_start_at_multiples_of_the_width_from_monday_2000_01_03(string width, string at)
    {
        var bucket = await _db.ScalarAsync<DateTime>("SELECT time_bucket($1::interval, $2::timestamptz)", width, at);

        Assert.Equal(TimeBucketCases.Expected(width, at).UtcDateTime, bucket);
    }

    [Fact]
    public async Task Weekly_buckets_start_on_monday()
    {
        var bucket = await _db.ScalarAsync<DateTime>("SELECT time_bucket('1 week', TIMESTAMPTZ '2024-03-10 23:00:00+00')");

        Assert.Equal(DayOfWeek.Monday, bucket.DayOfWeek);
        Assert.Equal(new DateTime(2024, 3, 4, 0, 0, 0, DateTimeKind.Utc), bucket);
    }

    [Fact]
    public async Task Buckets_do_not_depend_on_the_session_time_zone()
    {
        await using var conn = _db.Open();
        await using var cmd = new Npgsql.NpgsqlCommand("""
            SET TIME ZONE 'America/New_York';
            SELECT time_bucket('1 day', TIMESTAMPTZ '2024-03-07 03:00:00+00');
            """, conn);

        var bucket = (DateTime)(await cmd.ExecuteScalarAsync())!;

        Assert.Equal(new DateTime(2024, 3, 7, 0, 0, 0, DateTimeKind.Utc), bucket);
    }

    [Fact]
    public async Task Month_buckets_are_refused_rather_than_answered_differently_from_timescaledb()
    {
        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => _db.ScalarAsync<DateTime>("SELECT time_bucket('1 month', now())"));

        Assert.Contains("month", error.MessageText);
    }
}
