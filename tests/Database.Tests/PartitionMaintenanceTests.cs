using System.Text.RegularExpressions;
using Npgsql;
using Pipeline.Database.Partitions;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>The partitioned mode's window of daily partitions: made ahead of time, old ones dropped.</summary>
public sealed class PartitionMaintenanceTests
{
    [Fact]
    public async Task Migration_chooses_the_partitioned_mode_without_timescaledb()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();

        Assert.Equal("partitioned", await db.ScalarAsync<string>("SELECT mode FROM storage_mode"));
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal("p", (await db.ScalarAsync<char>("SELECT relkind FROM pg_class WHERE relname = $1", table)).ToString());
    }

    [Fact]
    public async Task Migration_creates_the_last_month_and_the_coming_week()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var today = DateOnly.FromDateTime(await DatabaseNowAsync(db));

        foreach (var table in PartitionMaintenance.TimeSeriesTables)
        {
            var days = await PartitionDaysAsync(db, table);
            Assert.Equal(Days(today.AddDays(-31), today.AddDays(7)), days);
        }
    }

    [Fact]
    public async Task Ensure_creates_missing_days_once_and_drop_removes_only_older_days()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var first = new DateOnly(2031, 5, 30);

        Assert.Equal(4, await db.ScalarAsync<int>("SELECT ensure_daily_partitions('gpu_usage', $1, $2)", first, first.AddDays(3)));
        Assert.Equal(0, await db.ScalarAsync<int>("SELECT ensure_daily_partitions('gpu_usage', $1, $2)", first, first.AddDays(3)));
        Assert.Equal(1, await db.ScalarAsync<int>("SELECT ensure_daily_partitions('gpu_usage', $1, $2)", first, first.AddDays(4)));
        // Bounds are UTC days: the last instant of a day lands in that day's partition.
        await db.ExecuteAsync(InsertUsage, new DateTimeOffset(2031, 5, 31, 23, 59, 59, TimeSpan.Zero), "gpu-edge");
        Assert.Equal("gpu_usage_p20310531", await db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM gpu_usage WHERE gpu_id = 'gpu-edge'"));

        var everythingBefore = await PartitionDaysAsync(db, "gpu_usage");
        var dropped = await db.ScalarAsync<int>("SELECT drop_daily_partitions_before('gpu_usage', $1)", first.AddDays(2));

        var remaining = await PartitionDaysAsync(db, "gpu_usage");
        Assert.Equal(everythingBefore.Count(d => d < first.AddDays(2)), dropped);
        Assert.Equal(Days(first.AddDays(2), first.AddDays(4)), remaining);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM gpu_usage WHERE gpu_id = 'gpu-edge'"));
        // The other table has its own partitions and is untouched.
        Assert.Equal(31 + 1 + 7, (await PartitionDaysAsync(db, "gpu_heartbeat")).Count);
    }

    [Fact]
    public async Task Maintenance_moves_the_window_forward_and_reports_what_it_did()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var now = await DatabaseNowAsync(db);
        var today = DateOnly.FromDateTime(now);
        var maintenance = new PartitionMaintenance(db.ConnectionString);

        // Ten days later, keeping 30 days and 7 ahead: 10 new days and 11 expired days per table.
        var report = await maintenance.RunAsync(TimeSpan.FromDays(30), 7, now.AddDays(10));

        Assert.Equal("partitioned", report.StorageMode);
        Assert.Equal(10 * 2, report.Created);
        Assert.Equal(11 * 2, report.Dropped);
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal(Days(today.AddDays(-20), today.AddDays(17)), await PartitionDaysAsync(db, table));

        var again = await maintenance.RunAsync(TimeSpan.FromDays(30), 7, now.AddDays(10));
        Assert.Equal((0, 0), (again.Created, again.Dropped));
    }

    [Fact]
    public async Task Maintenance_refills_a_window_that_was_left_behind_for_a_long_time()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var later = (await DatabaseNowAsync(db)).AddDays(400);
        var laterDay = DateOnly.FromDateTime(later);

        await new PartitionMaintenance(db.ConnectionString).RunAsync(TimeSpan.FromDays(3), 2, later);

        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal(Days(laterDay.AddDays(-3), laterDay.AddDays(2)), await PartitionDaysAsync(db, table));
    }

    [Fact]
    public async Task Rows_for_today_can_be_inserted_and_read_back_by_gpu_and_time_range()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var now = await DatabaseNowAsync(db);

        await db.ExecuteAsync(InsertUsage, new DateTimeOffset(now, TimeSpan.Zero), "gpu-today");
        await db.ExecuteAsync("""
            INSERT INTO gpu_heartbeat (time, gpu_id, provider_id, status, agent_version, driver_version, uptime_s)
            VALUES (now(), 'gpu-today', 'prov-1', 'healthy', '1.0.0', '550.54', 3600)
            """);

        Assert.Equal(1L, await db.ScalarAsync<long>(
            "SELECT count(*) FROM gpu_usage WHERE gpu_id = 'gpu-today' AND time >= now() - interval '1 hour' AND time < now() + interval '1 hour'"));
        Assert.Equal($"gpu_usage_p{now:yyyyMMdd}", await db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM gpu_usage WHERE gpu_id = 'gpu-today'"));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM gpu_heartbeat WHERE gpu_id = 'gpu-today'"));
    }

    [Fact]
    public async Task Second_sample_for_the_same_gpu_and_time_is_a_duplicate()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var at = new DateTimeOffset(await DatabaseNowAsync(db), TimeSpan.Zero);
        await db.ExecuteAsync(InsertUsage, at, "gpu-dup");

        var error = await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync(InsertUsage, at, "gpu-dup"));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
    }

    [Fact]
    public async Task Cli_partitions_maintain_exits_zero_and_reports_counts()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();

        var result = await PipelineCli.RunAsync(db.ConnectionString, "partitions", "maintain", "--Retention:Window=10d", "--Retention:DaysAhead=9");

        Assert.True(result.ExitCode == 0, result.StandardError);
        // The migration made 31 days back and 7 ahead; keeping 10 back and 9 ahead adds 2 and drops 21 per table.
        var match = Regex.Match(result.StandardOutput, @"partitions maintain \(partitioned\): (\d+) created, (\d+) dropped");
        Assert.True(match.Success, result.StandardOutput);
        Assert.Equal(2 * 2, int.Parse(match.Groups[1].Value));
        Assert.Equal(21 * 2, int.Parse(match.Groups[2].Value));
    }

    private const string InsertUsage = """
        INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
        VALUES ($1, $2, 'prov-1', 50, 1024, 81920, 60, 300)
        """;

    private static async Task<DateTime> DatabaseNowAsync(TestDatabase db) =>
        await db.ScalarAsync<DateTime>("SELECT now() AT TIME ZONE 'UTC'");

    private static IReadOnlyList<DateOnly> Days(DateOnly first, DateOnly last) =>
        Enumerable.Range(0, last.DayNumber - first.DayNumber + 1).Select(first.AddDays).ToList();

    private static async Task<IReadOnlyList<DateOnly>> PartitionDaysAsync(TestDatabase db, string parent)
    {
        await using var conn = db.Open();
        await using var cmd = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass ORDER BY c.relname
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = parent });
        await using var reader = await cmd.ExecuteReaderAsync();
        var days = new List<DateOnly>();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(0);
            Assert.StartsWith(parent + "_p", name);
            days.Add(DateOnly.ParseExact(name[^8..], "yyyyMMdd"));
        }
        return days;
    }
}
