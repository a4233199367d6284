using Pipeline.Database.Migrations;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Faults;

/// <summary>The handle on the real pipeline process that the fault tests signal and kill.</summary>
public sealed class PipelineProcessTests
{
    [Fact]
    public async Task Runs_the_real_tool_configured_by_flags_only_and_reports_its_output_and_exit_code()
    {
        await using var database = new TestDatabase(migrate: false);
        await database.InitializeAsync();

        await using var process = PipelineProcess.Start(["migrate", "up", $"--Database:ConnectionString={database.ConnectionString}"]);
        var line = await process.WaitForLineAsync(l => l.StartsWith("migrate up:", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var expected = $"migrate up: applied {MigrationCatalog.Embedded.Count} migration(s)";
        Assert.Equal(expected, line);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("[out] " + expected, process.Output);
    }

    [Fact]
    public async Task Without_inherited_settings_the_tool_names_the_missing_one()
    {
        // The test process has PIPELINE_Database__ConnectionString; the child must not see it.
        await using var process = PipelineProcess.Start(["migrate", "status"]);
        Assert.Equal(3, await process.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Database:ConnectionString", process.Output);
    }
}
