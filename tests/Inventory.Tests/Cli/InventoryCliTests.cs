using System.Text.Json;
using Pipeline.TestSupport;

namespace Pipeline.Inventory.Tests.Cli;

/// <summary>The real `pipeline` tool as operators script it, talking HTTP to a served inventory API.</summary>
public sealed class InventoryCliTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    private Task<ExternalCommand.Result> PipelineAsync(string token, params string[] args) =>
        PipelineCli.RunAsync(new Dictionary<string, string>
        {
            ["PIPELINE_Inventory__Url"] = server.BaseAddress.ToString(),
            ["PIPELINE_Inventory__Token"] = token,
        }, args);

    [Fact]
    public async Task Operators_list_show_allocate_and_release_through_the_api()
    {
        await FleetSeed.GpuAsync(server.Database, "cli-h100-1", "cli-co", model: "H100", region: "cli-region");
        await FleetSeed.GpuAsync(server.Database, "cli-h100-2", "cli-co", model: "H100", region: "cli-region");
        await FleetSeed.GpuAsync(server.Database, "cli-l4-1", "cli-co", model: "L4", memoryMib: 24576, region: "cli-region", heartbeat: Heartbeat.Stale);

        var list = await PipelineAsync(InventoryServer.ReadOnlyToken, "gpus", "list", "--region", "cli-region", "--sort", "memoryMib", "--json");
        Assert.True(list.ExitCode == 0, list.StandardError);
        using (var json = JsonDocument.Parse(list.StandardOutput))
            Assert.Equal(["cli-l4-1", "cli-h100-1", "cli-h100-2"], json.RootElement.GetProperty("items").EnumerateArray().Select(g => g.GetProperty("id").GetString()));

        var table = await PipelineAsync(InventoryServer.ReadOnlyToken, "gpus", "list", "--model", "L4", "--region", "cli-region");
        Assert.True(table.ExitCode == 0, table.StandardError);
        Assert.Contains("STATUS", table.StandardOutput);
        Assert.Contains(table.StandardOutput.Split('\n'), line => line.StartsWith("cli-l4-1 ", StringComparison.Ordinal) && line.Contains("offline"));

        var show = await PipelineAsync(InventoryServer.ReadOnlyToken, "gpus", "show", "cli-h100-1");
        Assert.True(show.ExitCode == 0, show.StandardError);
        Assert.Contains(show.StandardOutput.Split('\n'), line => line.StartsWith("status") && line.TrimEnd().EndsWith("online"));

        var allocate = await PipelineAsync(InventoryServer.AdminToken, "allocate", "--tenant", "team-cli", "--count", "2", "--model", "H100", "--region", "cli-region", "--lease", "2h", "--json=true");
        Assert.True(allocate.ExitCode == 0, allocate.StandardError);
        string id;
        using (var json = JsonDocument.Parse(allocate.StandardOutput))
        {
            id = json.RootElement.GetProperty("id").GetString()!;
            Assert.Equal(2, json.RootElement.GetProperty("gpus").GetArrayLength());
        }
        Assert.Equal(2L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM allocations WHERE tenant = 'team-cli'"));

        var release = await PipelineAsync(InventoryServer.AdminToken, "release", id);
        Assert.True(release.ExitCode == 0, release.StandardError);
        Assert.Contains("state released", release.StandardOutput);
        var again = await PipelineAsync(InventoryServer.AdminToken, "release", id);
        Assert.Equal(0, again.ExitCode);
    }

    [Fact]
    public async Task Api_errors_are_printed_from_the_problem_and_exit_non_zero()
    {
        await FleetSeed.GpuAsync(server.Database, "cli-err-1", "cli-co", region: "cli-err");

        var missing = await PipelineAsync(InventoryServer.ReadOnlyToken, "gpus", "show", "no-such-gpu");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("404", missing.StandardError);
        Assert.Contains("no-such-gpu", missing.StandardError);

        var forbidden = await PipelineAsync(InventoryServer.ReadOnlyToken, "allocate", "--tenant", "t", "--count", "1", "--lease", "1h", "--region", "cli-err");
        Assert.Equal(1, forbidden.ExitCode);
        Assert.Contains("403", forbidden.StandardError);

        var tooMany = await PipelineAsync(InventoryServer.AdminToken, "allocate", "--tenant", "t", "--count", "5", "--lease", "1h", "--region", "cli-err");
        Assert.Equal(1, tooMany.ExitCode);
        Assert.Contains("409", tooMany.StandardError);
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM allocations WHERE tenant = 't'"));
    }
}
