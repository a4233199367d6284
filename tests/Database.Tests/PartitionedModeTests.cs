using Npgsql;
using Pipeline.Database.Partitions;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>What a freshly migrated database looks like without TimescaleDB: daily range partitions around today.</summary>
public sealed class PartitionedModeTests(SharedDatabase shared) : IClassFixture<SharedDatabase>
{
    private readonly TestDatabase _db = shared.Database;

    [Fact]
    public async Task Migration_chooses_the_partitioned_mode_without_timescaledb()
    {
        Assert.Equal("partitioned", await _db.ScalarAsync<string>("SELECT mode FROM storage_mode"));
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal("p", (await _db.ScalarAsync<char>("SELECT relkind FROM pg_class WHERE relname = $1", table)).ToString());
    }

    [Fact]
    public async Task Migration_creates_the_last_month_and_the_coming_week()
    {
        var today = DateOnly.FromDateTime(await PartitionCatalog.DatabaseUtcNowAsync(_db));

        foreach (var table in PartitionMaintenance.TimeSeriesTables)
        {
            var days = await PartitionCatalog.DaysAsync(_db, table);
            Assert.Equal(PartitionCatalog.Days(today.AddDays(-31), today.AddDays(7)), days);
        }
    }

    [Fact]
    public async Task Rows_for_today_can_be_inserted_and_read_back_by_gpu_and_time_range()
    {
        var now = await PartitionCatalog.DatabaseUtcNowAsync(_db);

        await _db.ExecuteAsync(PartitionCatalog.InsertUsageSql, new DateTimeOffset(now, TimeSpan.Zero), "gpu-today");
        await _db.ExecuteAsync("""
            INSERT INTO gpu_heartbeat (time, gpu_id, provider_id, status, agent_version, driver_version, uptime_s)
            VALUES (now(), 'gpu-today', 'prov-1', 'healthy', '1.0.0', '550.54', 3600)
            """);

        Assert.Equal(1L, await _db.ScalarAsync<long>(
            "SELECT count(*) FROM gpu_usage WHERE gpu_id = 'gpu-today' AND time >= now() - interval '1 hour' AND time < now() + interval '1 hour'"));
        Assert.Equal($"gpu_usage_p{now:yyyyMMdd}", await _db.ScalarAsync<string>("SELECT tableoid::regclass::text FROM gpu_usage WHERE gpu_id = 'gpu-today'"));
        Assert.Equal(1L, await _db.ScalarAsync<long>("SELECT count(*) FROM gpu_heartbeat WHERE gpu_id = 'gpu-today'"));
    }

    [Fact]
    public async Task Second_sample_for_the_same_gpu_and_time_is_a_duplicate()
    {
        var at = new DateTimeOffset(await PartitionCatalog.DatabaseUtcNowAsync(_db), TimeSpan.Zero);
        await _db.ExecuteAsync(PartitionCatalog.InsertUsageSql, at, "gpu-dup");

        var error = await Assert.ThrowsAsync<PostgresException>(() => _db.ExecuteAsync(PartitionCatalog.InsertUsageSql, at, "gpu-dup"));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
    }
}
