using Npgsql;
using Pipeline.Database.Migrations;
using Pipeline.Database.Partitions;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>
/// The TimescaleDB storage mode against real TimescaleDB code (2.23 compiled to WebAssembly, served
/// by scripts/timescale/start.sh): hypertables, the dashboard query, compression and retention jobs,
/// and migrating down and up again. The tests share one server and run one after another; each
/// starts by migrating up and owns the GPU ids it writes.
/// </summary>
public sealed class TimescaleDbMigrationTests(TimescaleDbServer server) : IClassFixture<TimescaleDbServer>
{
    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Embedded;

    [Fact]
    public async Task Migrations_choose_timescaledb_and_make_one_day_hypertables()
    {
        await new MigrationRunner(server.ConnectionString).UpAsync();

        Assert.Equal("timescaledb", await server.ScalarAsync<string>("SELECT mode FROM storage_mode"));
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
        {
            Assert.Equal(TimeSpan.FromDays(1), await server.ScalarAsync<TimeSpan>("""
                SELECT d.time_interval FROM timescaledb_information.hypertables h
                JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)
                WHERE h.hypertable_name = $1 AND d.column_name = 'time'
                """, table));
            // The indexes are the ones the migration names, in both modes; TimescaleDB adds none of its own.
            Assert.Equal(
                $"{table}_gpu_time_idx,{table}_time_idx",
                await server.ScalarAsync<string>("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = $1", table));
            // The partitioned mode's upkeep functions exist and do nothing here.
            Assert.Equal(0, await server.ScalarAsync<int>("SELECT ensure_daily_partitions($1::regclass, current_date, current_date + 3)", table));
        }
        Assert.True(await server.ScalarAsync<bool>("SELECT indisunique FROM pg_index WHERE indexrelid = 'gpu_usage_gpu_time_idx'::regclass"));
    }

    [Theory]
    [MemberData(nameof(TimeBucketCases.All), MemberType = typeof(TimeBucketCases))]
    public async Task Time_bucket_gives_the_answers_the_partitioned_mode_gives(string width, string at)
    {
        var bucket = await server.ScalarAsync<DateTime>("SELECT time_bucket($1::interval, $2::timestamptz)", width, at);

        Assert.Equal(TimeBucketCases.Expected(width, at).UtcDateTime, bucket);
    }

    [Fact]
    public async Task Dashboard_query_gives_the_same_rows_on_timescaledb_and_on_partitioned_postgresql()
    {
        await new MigrationRunner(server.ConnectionString).UpAsync();
        await server.ExecuteAsync("DELETE FROM gpu_usage WHERE gpu_id = ANY($1)", (object)DashboardQuery.Gpus);
        await DashboardQuery.InsertSamplesAsync(server.ConnectionString);

        await using var partitioned = new TestDatabase();
        await partitioned.InitializeAsync();
        await partitioned.ExecuteAsync("SELECT ensure_daily_partitions('gpu_usage', $1, $2)",
            DateOnly.FromDateTime(DashboardQuery.From.UtcDateTime), DateOnly.FromDateTime(DashboardQuery.Until.UtcDateTime));
        await DashboardQuery.InsertSamplesAsync(partitioned.ConnectionString);

        var onTimescale = await DashboardQuery.RunAsync(server.ConnectionString);
        var onPartitioned = await DashboardQuery.RunAsync(partitioned.ConnectionString);

        Assert.Equal(24 * DashboardQuery.Gpus.Length, onTimescale.Count);
        Assert.Equal(onPartitioned, onTimescale);
        // The two hours straddle midnight, so TimescaleDB made one chunk per day.
        Assert.Equal(2L, await server.ScalarAsync<long>(
            "SELECT count(DISTINCT tableoid) FROM gpu_usage WHERE gpu_id = ANY($1)", (object)DashboardQuery.Gpus));
    }

    [Fact]
    public async Task Compression_job_compresses_week_old_chunks_by_gpu_and_keeps_them_queryable_and_unique()
    {
        await new MigrationRunner(server.ConnectionString).UpAsync();
        var weekOld = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-10), TimeSpan.Zero).AddHours(6);
        await server.ExecuteAsync("""
            INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
            SELECT $1 + i * interval '1 minute', 'gpu-compress-' || (i % 3), 'prov-1', i % 100, 1024, 81920, 60, 300
            FROM generate_series(0, 299) AS i
            ON CONFLICT DO NOTHING
            """, weekOld);
        const string summary = "SELECT count(*) || '/' || sum(utilization_pct) FROM gpu_usage WHERE gpu_id LIKE 'gpu-compress-%'";
        var before = await server.ScalarAsync<string>(summary);

        var job = await server.ScalarAsync<int>("""
            SELECT job_id FROM timescaledb_information.jobs
            WHERE proc_name = 'policy_compression' AND hypertable_name = 'gpu_usage'
            """);
        await server.ExecuteAsync("CALL run_job($1)", job);

        Assert.True(await server.ScalarAsync<bool>("""
            SELECT c.is_compressed FROM timescaledb_information.chunks c
            WHERE c.hypertable_name = 'gpu_usage' AND $1 >= c.range_start AND $1 < c.range_end
            """, weekOld));
        Assert.Equal("gpu_id", await server.ScalarAsync<string>("""
            SELECT attname FROM timescaledb_information.compression_settings
            WHERE hypertable_name = 'gpu_usage' AND segmentby_column_index = 1
            """));
        Assert.Equal(before, await server.ScalarAsync<string>(summary));
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => server.ExecuteAsync("""
            INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
            VALUES ($1, 'gpu-compress-0', 'prov-1', 1, 1, 1, 1, 1)
            """, weekOld));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
    }

    [Fact]
    public async Task Maintenance_drops_chunks_past_retention_and_points_the_retention_job_at_the_configured_window()
    {
        await new MigrationRunner(server.ConnectionString).UpAsync();
        var now = DateTimeOffset.UtcNow;
        await server.ExecuteAsync("""
            INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
            VALUES ($1, 'gpu-retention', 'prov-1', 1, 1, 1, 1, 1), ($2, 'gpu-retention', 'prov-1', 1, 1, 1, 1, 1)
            ON CONFLICT DO NOTHING
            """, now.AddDays(-50), now.AddMinutes(-1));
        var maintenance = new PartitionMaintenance(server.ConnectionString);

        var report = await maintenance.RunAsync(TimeSpan.FromDays(45), 7, now);

        Assert.Equal("timescaledb", report.StorageMode);
        Assert.Equal(0, report.Created);
        Assert.True(report.Dropped >= 1, $"dropped {report.Dropped}");
        Assert.Equal(1L, await server.ScalarAsync<long>("SELECT count(*) FROM gpu_usage WHERE gpu_id = 'gpu-retention'"));
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal(TimeSpan.FromDays(45), await RetentionJobWindowAsync(table));

        await maintenance.RunAsync(TimeSpan.FromDays(30), 7, now);
        foreach (var table in PartitionMaintenance.TimeSeriesTables)
            Assert.Equal(TimeSpan.FromDays(30), await RetentionJobWindowAsync(table));
    }

    [Fact]
    public async Task Down_to_zero_and_up_again_leaves_an_identical_schema()
    {
        var runner = new MigrationRunner(server.ConnectionString);
        await runner.UpAsync();
        var first = await SchemaSnapshot.TakeAsync(server.ConnectionString);
        var jobs = await server.ScalarAsync<long>("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL");

        await runner.DownAsync(0);
        Assert.True(await server.ScalarAsync<bool>("SELECT to_regclass('gpu_usage') IS NULL"));
        Assert.Equal(0L, await server.ScalarAsync<long>("SELECT count(*) FROM timescaledb_information.hypertables"));
        Assert.Equal(0L, await server.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));

        Assert.Equal(All.Count, (await runner.UpAsync()).Count);
        var again = await SchemaSnapshot.TakeAsync(server.ConnectionString);

        Assert.True(first.SequenceEqual(again), SchemaSnapshot.Difference(first, again));
        Assert.Equal("timescaledb", await server.ScalarAsync<string>("SELECT mode FROM storage_mode"));
        Assert.Equal(2L, await server.ScalarAsync<long>("SELECT count(*) FROM timescaledb_information.hypertables"));
        Assert.Equal(jobs, await server.ScalarAsync<long>("SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL"));
    }

    private Task<TimeSpan> RetentionJobWindowAsync(string table) => server.ScalarAsync<TimeSpan>("""
        SELECT (config ->> 'drop_after')::interval FROM timescaledb_information.jobs
        WHERE proc_name = 'policy_retention' AND hypertable_name = $1
        """, table);
}
