using System.Net;
using System.Text.Json;

namespace Pipeline.Inventory.Tests.Allocations;

public sealed class AllocationConcurrencyTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    /// <summary>No GPU may be in two leases that are active at the same instant; checked in SQL, independently of the API.</summary>
    private const string DoubleBookedGpus = """
        SELECT count(*) FROM allocations a JOIN allocations b
          ON a.gpu_id = b.gpu_id AND a.id < b.id
         AND tstzrange(a.starts_at, LEAST(a.ends_at, COALESCE(a.released_at, a.ends_at)))
          && tstzrange(b.starts_at, LEAST(b.ends_at, COALESCE(b.released_at, b.ends_at)))
        """;

    private async Task<List<string>> SeedRegionAsync(string region, int free)
    {
        var freeIds = new List<string>();
        for (var i = 0; i < free; i++)
        {
            freeIds.Add($"{region}-free-{i:D2}");
            await FleetSeed.GpuAsync(server.Database, freeIds[^1], "race-co", region: region, price: 1 + i % 3);
        }
        // Matching GPUs that must never be granted.
        await FleetSeed.GpuAsync(server.Database, $"{region}-stale", "race-co", region: region, heartbeat: Heartbeat.Stale);
        await FleetSeed.GpuAsync(server.Database, $"{region}-silent", "race-co", region: region, heartbeat: Heartbeat.None);
        await FleetSeed.GpuAsync(server.Database, $"{region}-degraded", "race-co", region: region, heartbeat: Heartbeat.Degraded);
        await FleetSeed.GpuAsync(server.Database, $"{region}-unhealthy", "race-co", region: region, heartbeat: Heartbeat.Unhealthy);
        await FleetSeed.GpuAsync(server.Database, $"{region}-maintenance", "race-co", region: region, adminStatus: "maintenance");
        await FleetSeed.GpuAsync(server.Database, $"{region}-retired", "race-co", region: region, adminStatus: "retired");
        await FleetSeed.GpuAsync(server.Database, $"{region}-failing-check", "race-co", region: region);
        await server.Database.ExecuteAsync(
            "INSERT INTO gpu_health_checks (gpu_id, check_name, passed) VALUES ($1, 'memtest', false)", $"{region}-failing-check");
        await FleetSeed.GpuAsync(server.Database, $"{region}-leased", "race-co", region: region);
        await server.Database.ExecuteAsync(
            "INSERT INTO allocations (request_id, gpu_id, tenant, starts_at, ends_at) VALUES (gen_random_uuid(), $1, 'earlier', now(), now() + interval '1 hour')",
            $"{region}-leased");
        return freeIds;
    }

    [Fact]
    public async Task Hundred_concurrent_requests_grant_exactly_the_free_gpus_and_refuse_the_rest_with_409()
    {
        var free = await SeedRegionAsync("race", free: 12);

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.WaitAsync();
            return await server.Admin.PostJson("/allocations", new { tenant = $"tenant-{i}", count = 1, leaseSeconds = 3600, region = "race" });
        }).ToList();
        start.Release(100);
        var responses = await Task.WhenAll(requests);

        var granted = new List<string>();
        var refused = 0;
        foreach (var response in responses)
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    var allocation = await response.JsonAsync(HttpStatusCode.Created);
                    granted.AddRange(allocation.GetProperty("gpus").EnumerateArray().Select(g => g.GetProperty("gpuId").GetString()!));
                }
                else
                {
                    await response.ProblemAsync(HttpStatusCode.Conflict);
                    refused++;
                }
            }
        }

        Assert.Equal(free.Count, granted.Count);
        Assert.Equal(100 - free.Count, refused);
        Assert.Equal(free.Order(), granted.Order());
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(DoubleBookedGpus));
        Assert.Equal((long)free.Count, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM allocations WHERE gpu_id LIKE 'race-%' AND tenant LIKE 'tenant-%'"));
    }

    [Fact]
    public async Task Concurrent_multi_gpu_requests_get_all_or_nothing_and_never_share_a_gpu()
    {
        var free = await SeedRegionAsync("multi", free: 10);

        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, 20).Select(async i =>
        {
            await start.WaitAsync();
            return await server.Admin.PostJson("/allocations", new { tenant = $"multi-{i}", count = 3, leaseSeconds = 600, region = "multi" });
        }).ToList();
        start.Release(20);
        var responses = await Task.WhenAll(requests);

        var granted = new List<string>();
        foreach (var response in responses)
        {
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    var gpus = (await response.JsonAsync(HttpStatusCode.Created)).GetProperty("gpus").EnumerateArray().ToList();
                    Assert.Equal(3, gpus.Count);
                    granted.AddRange(gpus.Select(g => g.GetProperty("gpuId").GetString()!));
                }
                else
                {
                    await response.ProblemAsync(HttpStatusCode.Conflict);
                }
            }
        }

        Assert.NotEmpty(granted);
        Assert.True(granted.Count <= 9, $"{granted.Count} GPUs granted out of 10 free in requests of 3");
        Assert.Equal(granted.Count, granted.Distinct().Count());
        Assert.Subset(free.ToHashSet(), granted.ToHashSet());
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(DoubleBookedGpus));
        // All or none: every request id has exactly three rows.
        Assert.Equal(0L, await server.Database.ScalarAsync<long>(
            "SELECT count(*) FROM (SELECT request_id FROM allocations WHERE tenant LIKE 'multi-%' GROUP BY request_id HAVING count(*) <> 3) partial"));
    }
}
