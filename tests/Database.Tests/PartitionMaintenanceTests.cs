using System.Text.RegularExpressions;
using Pipeline.Database.Partitions;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>The partitioned mode's window of daily partitions: made ahead of time, old ones dropped.</summary>
public sealed class PartitionMaintenanceTests
{
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
        await db.ExecuteAsync(PartitionCatalog.InsertUsageSql, new DateTimeOffset(2031, 5, 31, 23, 59, 59, TimeSpan.Zero), "gpu-edge");
        Assert.Equal("gpu_usage_p20310531", await db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM gpu_usage WHERE gpu_id = 'gpu-edge'"));

        var everythingBefore = await PartitionCatalog.DaysAsync(db, "gpu_usage");
        var dropped = await db.ScalarAsync<int>("SELECT drop_daily_partitions_before('gpu_usage', $1)", first.AddDays(2));

        var remaining = await PartitionCatalog.DaysAsync(db, "gpu_usage");
        Assert.Equal(everythingBefore.Count(d => d < first.AddDays(2)), dropped);
        Assert.Equal(PartitionCatalog.Days(first.AddDays(2), first.AddDays(4)), remaining);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM gpu_usage WHERE gpu_id = 'gpu-edge'"));
        // The other table has its own partitions and is untouched.
        Assert.Equal(31 + 1 + 7, (await PartitionCatalog.DaysAsync(db, "gpu_heartbeat")).Count);
    }

    [Fact]
    public async Task Maintenance_moves_the_window_forward_and_reports_what_it_did()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var now = await PartitionCatalog.DatabaseUtcNowAsync(db);
        var today = DateOnly.FromDateTime(now);
        var maintenance = new PartitionMaintenance(db.ConnectionString);

        // Ten days later, keeping 30 days and 7 ahead: 10 new days and 11 expired days per table.
        var report = await maintenance.RunAsync(TimeSpan.FromDays(30), 7, now.AddDays(10));

        Assert.Equal("partitioned", report.StorageMode);
        Assert.Equal(10 * 2, report.Created);
        Assert.Equal(11 * 2, report.Dropped);
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal(PartitionCatalog.Days(today.AddDays(-20), today.AddDays(17)), await PartitionCatalog.DaysAsync(db, table));

        var again = await maintenance.RunAsync(TimeSpan.FromDays(30), 7, now.AddDays(10));
        Assert.Equal((0, 0), (again.Created, again.Dropped));
    }

    [Fact]
    public async Task Maintenance_refills_a_window_that_was_left_behind_for_a_long_time()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var later = (await PartitionCatalog.DatabaseUtcNowAsync(db)).AddDays(400);
        var laterDay = DateOnly.FromDateTime(later);

        await new PartitionMaintenance(db.ConnectionString).RunAsync(TimeSpan.FromDays(3), 2, later);

        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal(PartitionCatalog.Days(laterDay.AddDays(-3), laterDay.AddDays(2)), await PartitionCatalog.DaysAsync(db, table));
    }

    [Fact]
    public async Task Cli_partitions_maintain_exits_zero_and_reports_counts()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();

        var result = await PipelineCli.RunAgainstDatabaseAsync(db.ConnectionString, "partitions", "maintain", "--Retention:Window=10d", "--Retention:DaysAhead=9");

        Assert.True(result.ExitCode == 0, result.StandardError);
        // The migration made 31 days back and 7 ahead; keeping 10 back and 9 ahead adds 2 and drops 21 per table.
        var match = Regex.Match(result.StandardOutput, @"partitions maintain \(partitioned\): (\d+) created, (\d+) dropped");
        Assert.True(match.Success, result.StandardOutput);
        Assert.Equal(2 * 2, int.Parse(match.Groups[1].Value));
        Assert.Equal(21 * 2, int.Parse(match.Groups[2].Value));
    }
}
