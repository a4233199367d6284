using Pipeline.Cli;
using Pipeline.Database.Migrations;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>The pipeline tool's entry point: it lists its commands and refuses to start without its settings.</summary>
public sealed class CliStartupTests
{
    [Fact]
    public async Task Help_lists_every_command()
    {
        var result = await PipelineCli.RunAgainstDatabaseAsync(null, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.NotEmpty(CommandCatalog.All);
        foreach (var command in CommandCatalog.All)
            Assert.Contains(string.Join(' ', command.Path), result.StandardOutput);
    }

    [Theory]
    [InlineData("migrate", "up")]
    [InlineData("migrate", "status")]
    [InlineData("partitions", "maintain")]
    public async Task Missing_connection_string_stops_start_up_naming_the_setting(string command, string subcommand)
    {
        var result = await PipelineCli.RunAgainstDatabaseAsync(null, command, subcommand);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(DatabaseOptions.ConnectionStringKey, result.StandardError);
        Assert.Contains("PIPELINE_Database__ConnectionString", result.StandardError);
    }

    [Fact]
    public async Task Malformed_connection_string_stops_start_up_naming_the_setting()
    {
        var result = await PipelineCli.RunAgainstDatabaseAsync("Host=127.0.0.1;NoSuchKeyword=1", "migrate", "status");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(DatabaseOptions.ConnectionStringKey, result.StandardError);
    }

    [Fact]
    public async Task Migrate_down_without_a_target_version_is_refused_naming_the_flag()
    {
        await using var db = new TestDatabase();
        await db.InitializeAsync();

        var result = await PipelineCli.RunAgainstDatabaseAsync(db.ConnectionString, "migrate", "down");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("'to'", result.StandardError);
        Assert.Equal((long)MigrationCatalog.Embedded.Count, await db.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task Migrate_status_shows_applied_and_pending_versions()
    {
        await using var db = new TestDatabase(migrate: false);
        await db.InitializeAsync();
        await new MigrationRunner(db.ConnectionString).UpAsync(1);

        var result = await PipelineCli.RunAgainstDatabaseAsync(db.ConnectionString, "migrate", "status");

        Assert.Equal(0, result.ExitCode);
        var lines = result.StandardOutput.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("0001") && l.Contains("applied"));
        foreach (var pending in MigrationCatalog.Embedded.Where(m => m.Version > 1))
            Assert.Contains(lines, l => l.StartsWith($"{pending.Version:D4}") && l.Contains("pending"));
    }
}
