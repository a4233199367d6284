using System.Net;
using System.Text;

namespace Pipeline.Inventory.Tests.Errors;

/// <summary>Every error path answers RFC 7807 problem+json with the right status.</summary>
public sealed class ErrorResponseTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    [Fact]
    public async Task Unknown_routes_and_methods_answer_problem_json()
    {
        await server.Anonymous.GetAsync("/no-such-thing").ProblemAsync(HttpStatusCode.NotFound);
        await server.Anonymous.GetAsync("/gpus/x/y/z").ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.PatchAsync("/gpus", new StringContent("{}", Encoding.UTF8, "application/json")).ProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Malformed_json_is_400_naming_where_it_broke()
    {
        await server.Admin.PostRaw("/providers", "{\"id\": \"a\", \"name\": ").ProblemAsync(HttpStatusCode.BadRequest);
        await server.Admin.PostRaw("/providers", "").ProblemAsync(HttpStatusCode.BadRequest, field: "body");
        await server.Admin.PostRaw("/providers", "null").ProblemAsync(HttpStatusCode.BadRequest, field: "body");
        await server.Admin.PostRaw("/providers", "[1, 2]").ProblemAsync(HttpStatusCode.BadRequest);
        await server.Admin.PostRaw("/gpus", "{\"memoryMib\": {\"nested\": 1}}").ProblemAsync(HttpStatusCode.BadRequest, field: "memoryMib");
        await server.Admin.PostRaw("/gpus/bulk", "[{\"id\": \"a\"}, {\"memoryMib\": true}]").ProblemAsync(HttpStatusCode.BadRequest, field: "[1].memoryMib");
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        await server.Admin.PostRaw("/providers", "id=a&name=b", "application/x-www-form-urlencoded").ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_oversized_body_is_413()
    {
        var huge = new StringBuilder("[");
        while (huge.Length < InventoryServer.MaxBodyBytes * 2) huge.Append("{\"id\":\"padding-padding-padding\"},");
        huge.Append("{}]");

        await server.Admin.PostRaw("/gpus/bulk", huge.ToString()).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        // Without Content-Length (chunked) the limit holds while reading.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/gpus/bulk") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge.ToString()))) };
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await server.Admin.SendAsync(chunked).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Missing_resources_are_404()
    {
        await server.Anonymous.GetAsync("/gpus/ghost").ProblemAsync(HttpStatusCode.NotFound);
        await server.Anonymous.GetAsync("/gpus/ghost/status").ProblemAsync(HttpStatusCode.NotFound);
        await server.Anonymous.GetAsync("/providers/ghost").ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.PutJson("/providers/ghost", new { name = "n" }).ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.PutJson("/gpus/ghost", new { providerId = "p", model = "m", memoryMib = 1, region = "r", pricePerHour = 1 }).ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.DeleteAsync("/providers/ghost").ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_weak_or_malformed_if_match_never_matches()
    {
        await FleetSeed.ProviderAsync(server.Database, "etag-co");
        await server.Admin.PutJson("/providers/etag-co", new { name = "x" }, ifMatch: "W/\"1\"").ProblemAsync(HttpStatusCode.PreconditionFailed);
        await server.Admin.PutJson("/providers/etag-co", new { name = "x" }, ifMatch: "1").ProblemAsync(HttpStatusCode.PreconditionFailed);
        await server.Admin.PutJson("/providers/etag-co", new { name = "x" }, ifMatch: "*").JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_500_problem_that_does_not_leak_internals()
    {
        var unreachable = new Npgsql.NpgsqlConnectionStringBuilder(server.Database.ConnectionString) { Database = "no_such_database_" + Guid.NewGuid().ToString("N") };
        await using var broken = await InventoryServer.StartAsync(
            new Dictionary<string, string?> { ["Database:ConnectionString"] = unreachable.ConnectionString }, sharing: server);

        var problem = await broken.Anonymous.GetAsync("/gpus").ProblemAsync(HttpStatusCode.InternalServerError);

        Assert.DoesNotContain("no_such_database", problem.GetRawText());
        Assert.False(problem.TryGetProperty("exception", out _));
    }

    [Fact]
    public async Task The_openapi_document_is_published()
    {
        var document = await server.Anonymous.GetAsync("/openapi/v1.json").JsonAsync(HttpStatusCode.OK);
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/gpus", paths);
        Assert.Contains("/allocations", paths);
        Assert.Contains("/allocations/{id}/release", paths);
        Assert.Contains("/gpus/{id}/usage", paths);

        // Writes declare the bearer scheme; open reads do not.
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        Assert.True(document.GetProperty("paths").GetProperty("/allocations").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(document.GetProperty("paths").GetProperty("/gpus").GetProperty("get").TryGetProperty("security", out _));
    }
}
