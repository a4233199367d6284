using System.Net;

namespace Pipeline.Inventory.Tests.Providers;

public sealed class ProviderApiTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    [Fact]
    public async Task Create_read_update_delete_round_trip_with_row_versions()
    {
        var created = await server.Admin.PostJson("/providers", new { id = "acme", name = "Acme GPUs", contact = "ops@acme.test" })
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal("Acme GPUs", created.GetProperty("name").GetString());
        Assert.Equal(1, created.GetProperty("version").GetInt64());

        using (var read = await server.Anonymous.GetAsync("/providers/acme"))
        {
            Assert.Equal("\"1\"", read.Headers.ETag?.Tag);
            var body = await read.JsonAsync(HttpStatusCode.OK);
            Assert.Equal("ops@acme.test", body.GetProperty("contact").GetString());
        }

        var updated = await server.Admin.PutJson("/providers/acme", new { name = "Acme Compute", contact = (string?)null }, ifMatch: "\"1\"")
            .JsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, updated.GetProperty("version").GetInt64());
        Assert.Equal("Acme Compute", updated.GetProperty("name").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, updated.GetProperty("contact").ValueKind);

        await server.Admin.DeleteWith("/providers/acme", ifMatch: "\"2\"").JsonAsync(HttpStatusCode.NoContent);
        await server.Anonymous.GetAsync("/providers/acme").ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Stale_if_match_answers_412_and_changes_nothing()
    {
        await server.Admin.PostJson("/providers", new { id = "stale-co", name = "Before" }).JsonAsync(HttpStatusCode.Created);
        await server.Admin.PutJson("/providers/stale-co", new { name = "First writer" }, ifMatch: "\"1\"").JsonAsync(HttpStatusCode.OK);

        await server.Admin.PutJson("/providers/stale-co", new { name = "Second writer" }, ifMatch: "\"1\"")
            .ProblemAsync(HttpStatusCode.PreconditionFailed, field: "If-Match");
        await server.Admin.DeleteWith("/providers/stale-co", ifMatch: "\"1\"").ProblemAsync(HttpStatusCode.PreconditionFailed);

        var current = await server.Anonymous.GetAsync("/providers/stale-co").JsonAsync(HttpStatusCode.OK);
        Assert.Equal("First writer", current.GetProperty("name").GetString());
        Assert.Equal(2, current.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Deleting_a_provider_that_still_has_gpus_is_a_conflict()
    {
        await FleetSeed.GpuAsync(server.Database, "busy-co-gpu-0", "busy-co");

        await server.Admin.DeleteAsync("/providers/busy-co").ProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(1L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM providers WHERE id = 'busy-co'"));
    }

    [Fact]
    public async Task Creating_an_existing_provider_is_a_conflict_and_missing_fields_name_the_field()
    {
        await server.Admin.PostJson("/providers", new { id = "twice", name = "One" }).JsonAsync(HttpStatusCode.Created);
        await server.Admin.PostJson("/providers", new { id = "twice", name = "Two" }).ProblemAsync(HttpStatusCode.Conflict);
        await server.Admin.PostJson("/providers", new { id = "no-name" }).ProblemAsync(HttpStatusCode.BadRequest, field: "name");
        await server.Admin.PostJson("/providers", new { id = new string('x', 129), name = "long" }).ProblemAsync(HttpStatusCode.BadRequest, field: "id");
    }

    [Fact]
    public async Task Listing_pages_through_every_provider_once()
    {
        for (var i = 0; i < 7; i++) await FleetSeed.ProviderAsync(server.Database, $"page-{i:D2}");

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await server.Anonymous.GetAsync("/providers?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)))
                .JsonAsync(HttpStatusCode.OK);
            Assert.True(page.Ids().Length <= 3);
            seen.AddRange(page.Ids());
            cursor = page.NextCursor();
        }
        while (cursor is not null);

        var all = (await server.Database.ScalarAsync<string[]>("SELECT array_agg(id ORDER BY id) FROM providers")).ToList();
        Assert.Equal(all, seen);
    }
}
