using Npgsql;
using Pipeline.Database.Migrations;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>The runner refuses changed history, applies each migration exactly once under concurrency and never leaves half a migration behind.</summary>
public sealed class MigrationSafetyTests
{
    private static readonly IReadOnlyList<Migration> All = MigrationCatalog.Embedded;

    [Fact]
    public async Task Changed_applied_migration_is_refused_with_the_file_named_and_nothing_changes()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();
        var original = All.Where(m => m.Version <= 2).ToList();
        await new MigrationRunner(db.ConnectionString, original).UpAsync();

        // The same list with 0002's up script edited after it was applied, plus a new pending migration.
        var edited = original
            .Select(m => m.Version == 2 ? m with { UpSql = m.UpSql + "\n-- an innocent-looking edit\n" } : m)
            .Concat(All.Where(m => m.Version > 2))
            .ToList();
        var runner = new MigrationRunner(db.ConnectionString, edited);

        var up = await Assert.ThrowsAsync<MigrationRefusedException>(() => runner.UpAsync());
        Assert.Contains("0002_timeseries.up.sql", up.Message);
        var down = await Assert.ThrowsAsync<MigrationRefusedException>(() => runner.DownAsync(0));
        Assert.Contains("0002_timeseries.up.sql", down.Message);

        Assert.Equal(2L, await db.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
        Assert.True(await db.ScalarAsync<bool>("SELECT to_regclass('ingest_offsets') IS NULL"));
    }

    [Fact]
    public async Task Cli_migrate_up_exits_non_zero_naming_the_changed_file()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        // As if sql/migrations/0001_inventory.up.sql had been edited since it was applied.
        await db.ExecuteAsync("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1");

        var result = await PipelineCli.RunAgainstDatabaseAsync(db.ConnectionString, "migrate", "up");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("0001_inventory.up.sql", result.StandardError);
        Assert.Contains("must not change", result.StandardError);
    }

    [Fact]
    public async Task Failing_migration_rolls_back_entirely_and_leaves_the_journal_unchanged()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();
        var journalBefore = await db.ScalarAsync<string>("SELECT string_agg(version || ':' || checksum, ',' ORDER BY version) FROM schema_migrations");
        var schemaBefore = await SchemaSnapshot.TakeAsync(db.ConnectionString);
        var next = All[^1].Version + 1;
        var broken = new Migration(next, "half_done", """
            CREATE TABLE half_done (id integer PRIMARY KEY);
            INSERT INTO half_done VALUES (1);
            ALTER TABLE gpus ADD COLUMN half_done_flag boolean;
            INSERT INTO providers (id, name) VALUES ('half-done', 'should vanish');
            SELECT 1 / 0;
            """, "DROP TABLE half_done;");
        var runner = new MigrationRunner(db.ConnectionString, [.. All, broken]);

        var error = await Assert.ThrowsAsync<MigrationRefusedException>(() => runner.UpAsync());

        Assert.Contains($"{next:D4} (half_done)", error.Message);
        Assert.Contains("division by zero", error.Message);
        Assert.True(await db.ScalarAsync<bool>("SELECT to_regclass('half_done') IS NULL"));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM providers WHERE id = 'half-done'"));
        var schemaAfter = await SchemaSnapshot.TakeAsync(db.ConnectionString);
        Assert.True(schemaBefore.SequenceEqual(schemaAfter), SchemaSnapshot.Difference(schemaBefore, schemaAfter));
        Assert.Equal(journalBefore, await db.ScalarAsync<string>("SELECT string_agg(version || ':' || checksum, ',' ORDER BY version) FROM schema_migrations"));
        // The lock was released: a good runner can still work on this database.
        Assert.Empty(await new MigrationRunner(db.ConnectionString).UpAsync());
    }

    [Fact]
    public async Task Failing_migration_keeps_the_migrations_before_it()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();
        var broken = new Migration(All[^1].Version + 1, "broken", "CREATE TABLE never_there (id int); SELECT no_such_function();", "");
        var runner = new MigrationRunner(db.ConnectionString, [.. All, broken]);

        await Assert.ThrowsAsync<MigrationRefusedException>(() => runner.UpAsync());

        Assert.Equal((long)All.Count, await db.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
        Assert.True(await db.ScalarAsync<bool>("SELECT to_regclass('never_there') IS NULL"));
    }

    [Fact]
    public async Task Concurrent_cli_migrate_up_runs_apply_each_migration_once()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PipelineCli.RunAgainstDatabaseAsync(db.ConnectionString, "migrate", "up")));

        foreach (var run in runs)
            Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.StandardError}{run.StandardOutput}");
        // Exactly one process applied everything; the others found the schema up to date.
        Assert.Single(runs, r => r.StandardOutput.Contains($"applied {All.Count} migration(s)"));
        Assert.Equal(runs.Length - 1, runs.Count(r => r.StandardOutput.Contains("schema is up to date")));
        await AssertEachVersionJournaledOnceAsync(db);
    }

    [Fact]
    public async Task Concurrent_runners_in_one_process_apply_each_migration_once()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runners = Enumerable.Range(0, 8).Select(async _ =>
        {
            await go.Task;
            return await new MigrationRunner(db.ConnectionString).UpAsync();
        }).ToList();

        go.SetResult();
        var results = await Task.WhenAll(runners);

        Assert.Equal(All.Count, results.Sum(r => r.Count));
        Assert.Equal(All.Select(m => m.Version).Order(), results.SelectMany(r => r).Select(m => m.Version).Order());
        await AssertEachVersionJournaledOnceAsync(db);
    }

    [Fact]
    public async Task Status_of_a_never_migrated_database_lists_everything_pending_and_creates_nothing()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();

        var status = await new MigrationRunner(db.ConnectionString).StatusAsync();

        Assert.Equal(All.Select(m => m.Version), status.Select(s => s.Migration.Version));
        Assert.All(status, s => Assert.False(s.IsApplied));
        Assert.True(await db.ScalarAsync<bool>("SELECT to_regclass('schema_migrations') IS NULL"));
    }

    private static async Task AssertEachVersionJournaledOnceAsync(TestDatabase db)
    {
        await using var conn = db.Open();
        await using var cmd = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations ORDER BY version", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var journal = new List<(int Version, string Checksum)>();
        while (await reader.ReadAsync()) journal.Add((reader.GetInt32(0), reader.GetString(1)));
        Assert.Equal(All.Select(m => (m.Version, m.Checksum)), journal);
    }
}
