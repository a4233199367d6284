using System.Net;
using System.Text.Json;

namespace Pipeline.Inventory.Tests.Allocations;

public sealed class AllocationLeaseTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    private Task<JsonElement> AllocateAsync(object body) => server.Admin.PostJson("/allocations", body).JsonAsync(HttpStatusCode.Created);

    private Task<JsonElement> AllocateAsync(string region, int count = 1, int leaseSeconds = 3600) =>
        AllocateAsync(new { tenant = "lease-tests", count, leaseSeconds, region });

    private async Task<bool> AvailableAsync(string gpuId) =>
        (await server.Anonymous.GetAsync($"/gpus/{gpuId}").JsonAsync(HttpStatusCode.OK)).GetProperty("available").GetBoolean();

    [Fact]
    public async Task A_lease_that_ended_in_the_past_frees_its_gpu_without_anyone_releasing_it()
    {
        await FleetSeed.GpuAsync(server.Database, "past-1", "lease-co", region: "past");
        await server.Database.ExecuteAsync("""
            INSERT INTO allocations (request_id, gpu_id, tenant, starts_at, ends_at)
            VALUES (gen_random_uuid(), 'past-1', 'yesterday', now() - interval '2 hours', now() - interval '1 hour')
            """);

        Assert.True(await AvailableAsync("past-1"));
        var listed = await server.Anonymous.GetAsync("/allocations?tenant=yesterday").JsonAsync(HttpStatusCode.OK);
        Assert.Equal("expired", listed.GetProperty("items")[0].GetProperty("state").GetString());

        var allocation = await AllocateAsync("past");
        Assert.Equal("past-1", allocation.GetProperty("gpus")[0].GetProperty("gpuId").GetString());
    }

    [Fact]
    public async Task A_short_lease_expires_by_itself_and_the_gpu_can_be_allocated_again()
    {
        await FleetSeed.GpuAsync(server.Database, "short-1", "lease-co", region: "short");
        // Long enough that the GPU is surely still leased when read back, even on a loaded machine.
        var first = await AllocateAsync("short", leaseSeconds: 4);
        Assert.False(await AvailableAsync("short-1"));

        // Waits for the lease to run out; the assertion is that it does, not how fast.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await AvailableAsync("short-1") && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.True(await AvailableAsync("short-1"));

        var again = await AllocateAsync("short");
        Assert.NotEqual(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        var expired = await server.Anonymous.GetAsync($"/allocations/{first.GetProperty("id").GetString()}").JsonAsync(HttpStatusCode.OK);
        Assert.Equal("expired", expired.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Release_frees_the_gpus_and_repeating_it_changes_nothing()
    {
        await FleetSeed.GpuAsync(server.Database, "rel-1", "lease-co", region: "rel");
        await FleetSeed.GpuAsync(server.Database, "rel-2", "lease-co", region: "rel");
        var allocation = await AllocateAsync("rel", count: 2);
        var id = allocation.GetProperty("id").GetString();
        Assert.Equal("active", allocation.GetProperty("state").GetString());

        var released = await server.Admin.PostAsync($"/allocations/{id}/release", null).JsonAsync(HttpStatusCode.OK);
        var again = await server.Admin.PostAsync($"/allocations/{id}/release", null).JsonAsync(HttpStatusCode.OK);

        Assert.Equal("released", released.GetProperty("state").GetString());
        Assert.Equal("released", again.GetProperty("state").GetString());
        Assert.Equal(released.GetProperty("releasedAt").GetDateTime(), again.GetProperty("releasedAt").GetDateTime());
        Assert.True(await AvailableAsync("rel-1"));
        Assert.True(await AvailableAsync("rel-2"));
        Assert.Equal(2, (await AllocateAsync("rel", count: 2)).GetProperty("gpus").GetArrayLength());
    }

    [Fact]
    public async Task Releasing_an_unknown_allocation_is_404()
    {
        await server.Admin.PostAsync($"/allocations/{Guid.NewGuid()}/release", null).ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.PostAsync("/allocations/not-a-uuid/release", null).ProblemAsync(HttpStatusCode.NotFound);
        await server.Anonymous.GetAsync($"/allocations/{Guid.NewGuid()}").ProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData(Heartbeat.Stale)]
    [InlineData(Heartbeat.None)]
    [InlineData(Heartbeat.Degraded)]
    [InlineData(Heartbeat.Unhealthy)]
    public async Task Offline_or_unhealthy_gpus_are_never_allocated(Heartbeat heartbeat)
    {
        var region = $"bad-{heartbeat}";
        await FleetSeed.GpuAsync(server.Database, $"{region}-1", "lease-co", region: region, heartbeat: heartbeat);

        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 1, leaseSeconds = 60, region }).ProblemAsync(HttpStatusCode.Conflict);

        // Once the agent reports healthy again, the same request succeeds.
        await FleetSeed.HeartbeatAsync(server.Database, $"{region}-1", "lease-co", Heartbeat.Healthy);
        await AllocateAsync(region);
    }

    [Fact]
    public async Task A_failed_latest_health_check_blocks_allocation_until_the_check_passes_again()
    {
        await FleetSeed.GpuAsync(server.Database, "check-1", "lease-co", region: "check");
        await server.Admin.PostJson("/gpus/check-1/health-checks", new { checkName = "dcgm-diag", passed = false }).JsonAsync(HttpStatusCode.Created);

        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 1, leaseSeconds = 60, region = "check" }).ProblemAsync(HttpStatusCode.Conflict);

        await server.Admin.PostJson("/gpus/check-1/health-checks", new { checkName = "dcgm-diag", passed = true }).JsonAsync(HttpStatusCode.Created);
        await AllocateAsync("check");
    }

    [Fact]
    public async Task Constraints_select_matching_gpus_and_a_shortfall_grants_nothing()
    {
        await FleetSeed.GpuAsync(server.Database, "fit-small", "fit-a", model: "L4", memoryMib: 24576, region: "fit");
        await FleetSeed.GpuAsync(server.Database, "fit-big-a", "fit-a", model: "H100", memoryMib: 81920, region: "fit", capabilities: """{"nvlink": true}""");
        await FleetSeed.GpuAsync(server.Database, "fit-big-b", "fit-b", model: "H100", memoryMib: 81920, region: "fit");

        var byMemory = await AllocateAsync(new { tenant = "t", count = 2, leaseSeconds = 60, region = "fit", minMemoryMib = 40000 });
        Assert.Equal(["fit-big-a", "fit-big-b"], byMemory.GetProperty("gpus").EnumerateArray().Select(g => g.GetProperty("gpuId").GetString()).Order());
        await server.Admin.PostAsync($"/allocations/{byMemory.GetProperty("id").GetString()}/release", null).JsonAsync(HttpStatusCode.OK);

        var byProvider = await AllocateAsync(new { tenant = "t", count = 1, leaseSeconds = 60, region = "fit", model = "H100", providerId = "fit-b" });
        Assert.Equal("fit-big-b", byProvider.GetProperty("gpus")[0].GetProperty("gpuId").GetString());
        var byCapability = await AllocateAsync(new { tenant = "t", count = 1, leaseSeconds = 60, region = "fit", capabilities = new[] { "nvlink" } });
        Assert.Equal("fit-big-a", byCapability.GetProperty("gpus")[0].GetProperty("gpuId").GetString());

        // Only fit-small is left: asking for two grants nothing at all.
        await server.Admin.PostJson("/allocations", new { tenant = "greedy", count = 2, leaseSeconds = 60, region = "fit" }).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM allocations WHERE tenant = 'greedy'"));
        Assert.True(await AvailableAsync("fit-small"));
    }

    [Fact]
    public async Task Allocation_requests_are_validated_field_by_field()
    {
        await server.Admin.PostJson("/allocations", new { count = 1, leaseSeconds = 60 }).ProblemAsync(HttpStatusCode.BadRequest, "tenant");
        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 0, leaseSeconds = 60 }).ProblemAsync(HttpStatusCode.BadRequest, "count");
        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 100_000, leaseSeconds = 60 }).ProblemAsync(HttpStatusCode.BadRequest, "count");
        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 1 }).ProblemAsync(HttpStatusCode.BadRequest, "leaseSeconds");
        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 1, leaseSeconds = 0 }).ProblemAsync(HttpStatusCode.BadRequest, "leaseSeconds");
        await server.Admin.PostJson("/allocations", new { tenant = "t", count = 1, leaseSeconds = 60 * 60 * 24 * 365 }).ProblemAsync(HttpStatusCode.BadRequest, "leaseSeconds");
        await server.Anonymous.GetAsync("/allocations?state=zombie").ProblemAsync(HttpStatusCode.BadRequest, "state");
    }

    [Fact]
    public async Task Allocations_list_newest_first_and_filter_by_tenant_and_state()
    {
        await FleetSeed.GpuAsync(server.Database, "list-1", "lease-co", region: "list");
        await FleetSeed.GpuAsync(server.Database, "list-2", "lease-co", region: "list");
        var older = await AllocateAsync(new { tenant = "lister", count = 1, leaseSeconds = 60, region = "list" });
        var newer = await AllocateAsync(new { tenant = "lister", count = 1, leaseSeconds = 60, region = "list" });
        await server.Admin.PostAsync($"/allocations/{older.GetProperty("id").GetString()}/release", null).JsonAsync(HttpStatusCode.OK);

        var page1 = await server.Anonymous.GetAsync("/allocations?tenant=lister&limit=1").JsonAsync(HttpStatusCode.OK);
        var page2 = await server.Anonymous.GetAsync($"/allocations?tenant=lister&limit=1&cursor={Uri.EscapeDataString(page1.NextCursor()!)}").JsonAsync(HttpStatusCode.OK);
        Assert.Equal([newer.GetProperty("id").GetString()!], page1.Ids());
        Assert.Equal([older.GetProperty("id").GetString()!], page2.Ids());
        Assert.Null(page2.NextCursor());

        var active = await server.Anonymous.GetAsync("/allocations?tenant=lister&state=active").JsonAsync(HttpStatusCode.OK);
        Assert.Equal([newer.GetProperty("id").GetString()!], active.Ids());
    }
}
