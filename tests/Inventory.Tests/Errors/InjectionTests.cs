using System.Net;
using System.Text.Json;

namespace Pipeline.Inventory.Tests.Errors;

/// <summary>Client text reaches SQL only as parameters; sort keys only select from a fixed list.</summary>
public sealed class InjectionTests(InventoryServer server) : IClassFixture<InventoryServer>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        if (await server.Database.ScalarAsync<long>("SELECT count(*) FROM gpus WHERE id = 'victim-1'") == 0)
            await FleetSeed.GpuAsync(server.Database, "victim-1", "inject-co", region: "eu-west", capabilities: """{"nvlink": true}""");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string> Payloads() => new()
    {
        "'; DROP TABLE gpus; --",
        "x' OR '1'='1",
        "\" OR 1=1 --",
        "1; DELETE FROM allocations",
        "$1",
        "@provider",
        "eu-west') OR ('a'='a",
    };

    private async Task<long> GpuCountAsync() => await server.Database.ScalarAsync<long>("SELECT count(*) FROM gpus");

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task Injection_strings_in_filters_match_nothing_and_change_nothing(string payload)
    {
        var count = await GpuCountAsync();
        var q = Uri.EscapeDataString(payload);

        foreach (var filter in new[] { "provider", "model", "region", "capability" })
        {
            var page = await server.Anonymous.GetAsync($"/gpus?{filter}={q}").JsonAsync(HttpStatusCode.OK);
            Assert.Empty(page.Ids());
        }
        var capabilityValue = await server.Anonymous.GetAsync($"/gpus?capability=nvlink={q}").JsonAsync(HttpStatusCode.OK);
        Assert.Empty(capabilityValue.Ids());
        var tenant = await server.Anonymous.GetAsync($"/allocations?tenant={q}").JsonAsync(HttpStatusCode.OK);
        Assert.Empty(tenant.Ids());
        await server.Anonymous.GetAsync($"/gpus/{q}").ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.PostJson("/allocations", new { tenant = payload, count = 1, leaseSeconds = 60, model = payload }).ProblemAsync(HttpStatusCode.Conflict);

        Assert.Equal(count, await GpuCountAsync());
        Assert.Equal("victim-1", await server.Database.ScalarAsync<string>("SELECT id FROM gpus WHERE id = 'victim-1'"));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task Injection_strings_as_sort_or_order_are_400(string payload)
    {
        var q = Uri.EscapeDataString(payload);
        await server.Anonymous.GetAsync($"/gpus?sort={q}").ProblemAsync(HttpStatusCode.BadRequest, field: "sort");
        await server.Anonymous.GetAsync($"/gpus?sort=id&order={q}").ProblemAsync(HttpStatusCode.BadRequest, field: "order");
        await server.Anonymous.GetAsync($"/gpus?sort=id%20{q}").ProblemAsync(HttpStatusCode.BadRequest, field: "sort");
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public async Task A_forged_cursor_carrying_sql_is_refused_or_harmless(string payload)
    {
        var count = await GpuCountAsync();
        string Forge(string ordering, string value) =>
            System.Buffers.Text.Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new { O = ordering, V = value, I = payload }));

        // A text sort value is only ever a parameter: the page is simply "after that string".
        await server.Anonymous.GetAsync($"/gpus?sort=model&cursor={Forge("model:asc", payload)}").JsonAsync(HttpStatusCode.OK);
        // A value that does not parse as the sort key's type is refused.
        await server.Anonymous.GetAsync($"/gpus?sort=memoryMib&cursor={Forge("memoryMib:asc", payload)}").ProblemAsync(HttpStatusCode.BadRequest, field: "cursor");
        await server.Anonymous.GetAsync($"/gpus?sort=createdAt&cursor={Forge("createdAt:asc", payload)}").ProblemAsync(HttpStatusCode.BadRequest, field: "cursor");
        await server.Anonymous.GetAsync($"/gpus?cursor={Forge(payload, "x")}").ProblemAsync(HttpStatusCode.BadRequest, field: "cursor");

        Assert.Equal(count, await GpuCountAsync());
    }

    [Fact]
    public async Task Injection_strings_in_bodies_are_stored_verbatim()
    {
        const string payload = "Robert'); DROP TABLE providers; --";
        var created = await server.Admin.PostJson("/providers", new { id = "bobby-tables", name = payload }).JsonAsync(HttpStatusCode.Created);

        Assert.Equal(payload, created.GetProperty("name").GetString());
        Assert.Equal(payload, await server.Database.ScalarAsync<string>("SELECT name FROM providers WHERE id = 'bobby-tables'"));
    }
}
