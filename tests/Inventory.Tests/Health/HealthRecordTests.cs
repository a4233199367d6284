using System.Net;

namespace Pipeline.Inventory.Tests.Health;

public sealed class HealthRecordTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    [Fact]
    public async Task Health_checks_are_listed_latest_first_across_pages()
    {
        await FleetSeed.GpuAsync(server.Database, "hc-1", "health-co");
        // Recorded out of time order: the list orders by checkedAt, not by arrival.
        int[] minutesAgo = [30, 5, 50, 10, 40, 20, 1];
        foreach (var ago in minutesAgo)
            await server.Admin.PostJson("/gpus/hc-1/health-checks", new
            {
                checkName = $"check-{ago}",
                passed = true,
                details = new { minutesAgo = ago },
                checkedAt = DateTimeOffset.UtcNow.AddMinutes(-ago),
            }).JsonAsync(HttpStatusCode.Created);

        var names = new List<string>();
        string? cursor = null;
        do
        {
            var page = await server.Anonymous.GetAsync("/gpus/hc-1/health-checks?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)))
                .JsonAsync(HttpStatusCode.OK);
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("checkName").GetString()!));
            cursor = page.NextCursor();
        }
        while (cursor is not null);

        Assert.Equal(minutesAgo.Order().Select(m => $"check-{m}"), names);
    }

    [Fact]
    public async Task Verifications_are_recorded_and_listed_latest_first()
    {
        await FleetSeed.GpuAsync(server.Database, "ver-1", "health-co");
        await server.Admin.PostJson("/gpus/ver-1/verifications", new { verifier = "burn-in", result = "failed", verifiedAt = DateTimeOffset.UtcNow.AddHours(-2) })
            .JsonAsync(HttpStatusCode.Created);
        var latest = await server.Admin.PostJson("/gpus/ver-1/verifications", new { verifier = "burn-in", result = "passed", evidence = new { gflops = 51000 } })
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal(51000, latest.GetProperty("evidence").GetProperty("gflops").GetInt32());

        var list = await server.ReadOnly.GetAsync("/gpus/ver-1/verifications").JsonAsync(HttpStatusCode.OK);
        Assert.Equal(["passed", "failed"], list.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("result").GetString()));
    }

    [Fact]
    public async Task Records_for_unknown_gpus_are_404_and_bad_fields_are_400()
    {
        await FleetSeed.GpuAsync(server.Database, "rec-1", "health-co");
        await server.Admin.PostJson("/gpus/ghost/health-checks", new { checkName = "x", passed = true }).ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.PostJson("/gpus/ghost/verifications", new { verifier = "x", result = "passed" }).ProblemAsync(HttpStatusCode.NotFound);
        await server.Anonymous.GetAsync("/gpus/ghost/health-checks").ProblemAsync(HttpStatusCode.NotFound);
        await server.Anonymous.GetAsync("/gpus/ghost/verifications").ProblemAsync(HttpStatusCode.NotFound);

        await server.Admin.PostJson("/gpus/rec-1/health-checks", new { checkName = "x" }).ProblemAsync(HttpStatusCode.BadRequest, "passed");
        await server.Admin.PostJson("/gpus/rec-1/health-checks", new { passed = true }).ProblemAsync(HttpStatusCode.BadRequest, "checkName");
        await server.Admin.PostJson("/gpus/rec-1/health-checks", new { checkName = "x", passed = true, details = "text" }).ProblemAsync(HttpStatusCode.BadRequest, "details");
        await server.Admin.PostJson("/gpus/rec-1/health-checks", new { checkName = "x", passed = true, checkedAt = DateTimeOffset.UtcNow.AddDays(1) })
            .ProblemAsync(HttpStatusCode.BadRequest, "checkedAt");
        await server.Admin.PostJson("/gpus/rec-1/verifications", new { verifier = "x", result = "probably" }).ProblemAsync(HttpStatusCode.BadRequest, "result");
        await server.Anonymous.GetAsync("/gpus/rec-1/health-checks?cursor=garbage").ProblemAsync(HttpStatusCode.BadRequest, "cursor");
    }
}
