using System.Net;

namespace Pipeline.Inventory.Tests.Usage;

public sealed class UsageApiTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    // A whole hour two hours back, so the samples fall in partitions that exist and buckets are whole.
    private static readonly DateTime Hour = WholeHoursAgo(2);

    private static DateTime WholeHoursAgo(int hours)
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc).AddHours(-hours);
    }

    private async Task SampleAsync(string gpu, DateTime time, double utilization, long memoryUsed) =>
        await server.Database.ExecuteAsync("""
            INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
            VALUES ($1, $2, 'usage-co', $3, $4, 81920, 60, 300)
            """, time, gpu, (float)utilization, memoryUsed);

    [Fact]
    public async Task Usage_is_bucketed_by_the_requested_width()
    {
        await FleetSeed.GpuAsync(server.Database, "use-1", "usage-co");
        // Minute 0: 10 and 30; minute 1: 50; minute 5: 90. Another GPU's sample must not count.
        await SampleAsync("use-1", Hour.AddSeconds(5), 10, 1000);
        await SampleAsync("use-1", Hour.AddSeconds(35), 30, 3000);
        await SampleAsync("use-1", Hour.AddMinutes(1).AddSeconds(10), 50, 5000);
        await SampleAsync("use-1", Hour.AddMinutes(5), 90, 9000);
        await SampleAsync("use-other", Hour.AddSeconds(5), 100, 1);

        var from = Uri.EscapeDataString(Hour.ToString("O"));
        var to = Uri.EscapeDataString(Hour.AddMinutes(10).ToString("O"));
        var usage = await server.Anonymous.GetAsync($"/gpus/use-1/usage?from={from}&to={to}&width=1m").JsonAsync(HttpStatusCode.OK);

        var buckets = usage.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal([Hour, Hour.AddMinutes(1), Hour.AddMinutes(5)], buckets.Select(b => b.GetProperty("time").GetDateTime().ToUniversalTime()));
        Assert.Equal([2L, 1L, 1L], buckets.Select(b => b.GetProperty("samples").GetInt64()));
        Assert.Equal(20, buckets[0].GetProperty("avgUtilizationPct").GetDouble(), 3);
        Assert.Equal(30, buckets[0].GetProperty("maxUtilizationPct").GetDouble(), 3);
        Assert.Equal(3000, buckets[0].GetProperty("maxMemoryUsedMib").GetInt64());
        Assert.Equal(60, usage.GetProperty("widthSeconds").GetDouble());

        var wide = await server.Anonymous.GetAsync($"/gpus/use-1/usage?from={from}&to={to}&width=5m").JsonAsync(HttpStatusCode.OK);
        Assert.Equal([3L, 1L], wide.GetProperty("buckets").EnumerateArray().Select(b => b.GetProperty("samples").GetInt64()));
    }

    [Fact]
    public async Task Width_and_range_are_validated_to_bound_the_answer()
    {
        await FleetSeed.GpuAsync(server.Database, "use-2", "usage-co");
        var now = DateTime.UtcNow;
        string Q(DateTime t) => Uri.EscapeDataString(t.ToString("O"));

        await server.Anonymous.GetAsync($"/gpus/use-2/usage?from={Q(now.AddDays(-7))}&to={Q(now)}&width=1s").ProblemAsync(HttpStatusCode.BadRequest, "width");
        await server.Anonymous.GetAsync($"/gpus/use-2/usage?from={Q(now.AddDays(-60))}&to={Q(now)}&width=1d").ProblemAsync(HttpStatusCode.BadRequest, "from");
        await server.Anonymous.GetAsync($"/gpus/use-2/usage?from={Q(now)}&to={Q(now.AddHours(-1))}").ProblemAsync(HttpStatusCode.BadRequest, "from");
        await server.Anonymous.GetAsync("/gpus/use-2/usage?width=5 minutes").ProblemAsync(HttpStatusCode.BadRequest, "width");
        await server.Anonymous.GetAsync("/gpus/use-2/usage?width=0m").ProblemAsync(HttpStatusCode.BadRequest, "width");
        await server.Anonymous.GetAsync("/gpus/use-2/usage?from=yesterday").ProblemAsync(HttpStatusCode.BadRequest, "from");
        await server.Anonymous.GetAsync("/gpus/ghost/usage").ProblemAsync(HttpStatusCode.NotFound);

        var defaults = await server.Anonymous.GetAsync("/gpus/use-2/usage").JsonAsync(HttpStatusCode.OK);
        Assert.Equal(60, defaults.GetProperty("widthSeconds").GetDouble());
        Assert.Empty(defaults.GetProperty("buckets").EnumerateArray());
    }
}
