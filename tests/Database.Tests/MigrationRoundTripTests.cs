using Pipeline.Database.Migrations;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>Every down script is the exact inverse of its up script, so migrating back and forth never drifts the schema.</summary>
public sealed class MigrationRoundTripTests
{
    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Embedded;

    [Fact]
    public async Task Up_down_to_zero_and_up_again_leaves_an_identical_schema()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();
        var runner = new MigrationRunner(db.ConnectionString);

        var applied = await runner.UpAsync();
        Assert.Equal(All.Select(m => m.Version), applied.Select(m => m.Version));
        var afterFirstUp = await SchemaSnapshot.TakeAsync(db.ConnectionString);

        var reverted = await runner.DownAsync(0);
        Assert.Equal(All.Select(m => m.Version).Reverse(), reverted.Select(m => m.Version));
        var afterDown = await SchemaSnapshot.TakeAsync(db.ConnectionString);
        Assert.Contains("relation schema_migrations kind=r", afterDown);
        Assert.DoesNotContain(afterDown, line => line.StartsWith("relation gpu", StringComparison.Ordinal));

        await runner.UpAsync();
        var afterSecondUp = await SchemaSnapshot.TakeAsync(db.ConnectionString);

        Assert.True(afterFirstUp.SequenceEqual(afterSecondUp), SchemaSnapshot.Difference(afterFirstUp, afterSecondUp));
    }

    [Fact]
    public async Task Down_to_each_version_restores_that_version_schema_and_up_again_restores_the_latest()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();
        var runner = new MigrationRunner(db.ConnectionString);

        // The schema as it looks at each version, built going up one step at a time.
        var atVersion = new Dictionary<int, IReadOnlyList<string>>();
        await runner.UpAsync(0);
        atVersion[0] = await SchemaSnapshot.TakeAsync(db.ConnectionString);
        foreach (var migration in All)
        {
            var applied = await runner.UpAsync(migration.Version);
            Assert.Equal([migration.Version], applied.Select(m => m.Version));
            atVersion[migration.Version] = await SchemaSnapshot.TakeAsync(db.ConnectionString);
        }
        var latest = atVersion[All[^1].Version];

        foreach (var target in atVersion.Keys.Where(v => v < All[^1].Version))
        {
            await runner.DownAsync(target);
            var down = await SchemaSnapshot.TakeAsync(db.ConnectionString);
            Assert.True(atVersion[target].SequenceEqual(down),
                $"down to {target:D4} differs from the schema built up to {target:D4}:{Environment.NewLine}{SchemaSnapshot.Difference(atVersion[target], down)}");
            Assert.Equal(All.Where(m => m.Version <= target).Select(m => m.Version), await JournaledVersionsAsync(db));

            await runner.UpAsync();
            var up = await SchemaSnapshot.TakeAsync(db.ConnectionString);
            Assert.True(latest.SequenceEqual(up),
                $"up again from {target:D4} differs from the first up:{Environment.NewLine}{SchemaSnapshot.Difference(latest, up)}");
        }
    }

    [Fact]
    public async Task Snapshot_notices_changed_indexes_defaults_constraints_functions_and_partitions()
    {
        string[] changes =
        [
            "DROP INDEX gpu_usage_time_idx",
            "ALTER TABLE gpus ALTER COLUMN status SET DEFAULT 'maintenance'",
            "ALTER TABLE allocations DROP CONSTRAINT allocations_no_double_booking",
            "CREATE OR REPLACE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz " +
                "LANGUAGE sql IMMUTABLE RETURN date_bin(bucket_width, ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
            "SELECT drop_daily_partitions_before('gpu_usage', current_date - 20)",
            "ALTER TABLE quarantine ALTER COLUMN detail DROP NOT NULL",
        ];
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        await using var conn = db.Open();
        var before = await SchemaSnapshot.TakeAsync(conn);

        foreach (var change in changes)
        {
            // Each change is made and looked at inside a transaction, then undone.
            await using var tx = await conn.BeginTransactionAsync();
            await using (var cmd = new Npgsql.NpgsqlCommand(change, conn, tx))
                await cmd.ExecuteNonQueryAsync();
            var after = await SchemaSnapshot.TakeAsync(conn);
            await tx.RollbackAsync();
            Assert.False(before.SequenceEqual(after), $"the snapshot did not notice: {change}");
        }
        Assert.Equal(before, await SchemaSnapshot.TakeAsync(conn));
    }

    private static async Task<IReadOnlyList<int>> JournaledVersionsAsync(TestDatabase db)
    {
        await using var conn = db.Open();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT version FROM schema_migrations ORDER BY version", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync()) versions.Add(reader.GetInt32(0));
        return versions;
    }
}
