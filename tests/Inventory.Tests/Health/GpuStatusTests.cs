using System.Net;

namespace Pipeline.Inventory.Tests.Health;

public sealed class GpuStatusTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    [Theory]
    [InlineData(Heartbeat.Healthy, "online")]
    [InlineData(Heartbeat.Degraded, "degraded")]
    [InlineData(Heartbeat.Unhealthy, "degraded")]
    [InlineData(Heartbeat.Stale, "offline")]
    [InlineData(Heartbeat.None, "offline")]
    public async Task Status_is_derived_from_the_latest_heartbeat(Heartbeat heartbeat, string status)
    {
        var id = $"status-{heartbeat}";
        await FleetSeed.GpuAsync(server.Database, id, "status-co", heartbeat: heartbeat);

        var view = await server.Anonymous.GetAsync($"/gpus/{id}/status").JsonAsync(HttpStatusCode.OK);
        var gpu = await server.Anonymous.GetAsync($"/gpus/{id}").JsonAsync(HttpStatusCode.OK);

        Assert.Equal(status, view.GetProperty("status").GetString());
        Assert.Equal(status, gpu.GetProperty("status").GetString());
        Assert.Equal(status == "online", gpu.GetProperty("available").GetBoolean());
    }

    [Fact]
    public async Task A_gpu_goes_offline_when_its_heartbeat_is_older_than_the_threshold()
    {
        await FleetSeed.GpuAsync(server.Database, "aging-1", "status-co");
        await server.Database.ExecuteAsync("UPDATE gpu_state SET last_seen = now() - interval '90 seconds' WHERE gpu_id = 'aging-1'");
        Assert.Equal("online", (await server.Anonymous.GetAsync("/gpus/aging-1/status").JsonAsync(HttpStatusCode.OK)).GetProperty("status").GetString());

        await server.Database.ExecuteAsync("UPDATE gpu_state SET last_seen = now() - interval '150 seconds' WHERE gpu_id = 'aging-1'");
        Assert.Equal("offline", (await server.Anonymous.GetAsync("/gpus/aging-1/status").JsonAsync(HttpStatusCode.OK)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_offline_threshold_comes_from_configuration()
    {
        await using var strict = await InventoryServer.StartAsync(new Dictionary<string, string?> { ["Inventory:OfflineAfter"] = "10s" }, sharing: server);
        await FleetSeed.GpuAsync(strict.Database, "strict-1", "status-co");
        await strict.Database.ExecuteAsync("UPDATE gpu_state SET last_seen = now() - interval '30 seconds' WHERE gpu_id = 'strict-1'");

        var view = await strict.Anonymous.GetAsync("/gpus/strict-1/status").JsonAsync(HttpStatusCode.OK);

        Assert.Equal("offline", view.GetProperty("status").GetString());
        Assert.Equal(10, view.GetProperty("offlineAfterSeconds").GetDouble());
    }

    [Fact]
    public async Task Failing_checks_are_named_and_make_the_gpu_degraded_until_they_pass()
    {
        await FleetSeed.GpuAsync(server.Database, "checked-1", "status-co");
        await server.Admin.PostJson("/gpus/checked-1/health-checks", new { checkName = "nvlink", passed = false }).JsonAsync(HttpStatusCode.Created);
        await server.Admin.PostJson("/gpus/checked-1/health-checks", new { checkName = "memtest", passed = true }).JsonAsync(HttpStatusCode.Created);

        var failing = await server.Anonymous.GetAsync("/gpus/checked-1/status").JsonAsync(HttpStatusCode.OK);
        Assert.Equal("degraded", failing.GetProperty("status").GetString());
        Assert.Equal(["nvlink"], failing.GetProperty("failingChecks").EnumerateArray().Select(c => c.GetString()));

        await server.Admin.PostJson("/gpus/checked-1/health-checks", new { checkName = "nvlink", passed = true }).JsonAsync(HttpStatusCode.Created);
        var recovered = await server.Anonymous.GetAsync("/gpus/checked-1/status").JsonAsync(HttpStatusCode.OK);
        Assert.Equal("online", recovered.GetProperty("status").GetString());
        Assert.Empty(recovered.GetProperty("failingChecks").EnumerateArray());
    }
}
