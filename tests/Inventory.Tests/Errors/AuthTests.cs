using System.Net;
using System.Net.Http.Headers;

namespace Pipeline.Inventory.Tests.Errors;

public sealed class AuthTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    public static TheoryData<string, string, string?> Writes() => new()
    {
        { "POST", "/providers", """{"id":"auth-co","name":"n"}""" },
        { "PUT", "/providers/auth-co", """{"name":"n"}""" },
        { "DELETE", "/providers/auth-co", null },
        { "POST", "/gpus", """{"id":"auth-1","providerId":"auth-co","model":"m","memoryMib":1,"region":"r","pricePerHour":1}""" },
        { "POST", "/gpus/bulk", "[]" },
        { "PUT", "/gpus/auth-1", "{}" },
        { "DELETE", "/gpus/auth-1", null },
        { "POST", "/gpus/auth-1/health-checks", """{"checkName":"x","passed":true}""" },
        { "POST", "/gpus/auth-1/verifications", """{"verifier":"x","result":"passed"}""" },
        { "POST", "/allocations", """{"tenant":"t","count":1,"leaseSeconds":60}""" },
        { "POST", $"/allocations/{Guid.Empty}/release", null },
    };

    private static HttpRequestMessage Request(string method, string url, string? body) => new(new HttpMethod(method), url)
    {
        Content = body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task Writes_without_a_token_are_401_and_with_a_read_only_token_403(string method, string url, string? body)
    {
        await server.Anonymous.SendAsync(Request(method, url, body)).ProblemAsync(HttpStatusCode.Unauthorized);
        await server.ReadOnly.SendAsync(Request(method, url, body)).ProblemAsync(HttpStatusCode.Forbidden);
        using var wrong = server.NewClient("not-a-configured-token");
        await wrong.SendAsync(Request(method, url, body)).ProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM providers WHERE id = 'auth-co'"));
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM gpus WHERE id = 'auth-1'"));
    }

    [Fact]
    public async Task A_401_says_how_to_authenticate()
    {
        using var response = await server.Anonymous.PostAsync("/allocations", null);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        await response.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Reads_are_open_by_default()
    {
        await server.Anonymous.GetAsync("/gpus").JsonAsync(HttpStatusCode.OK);
        await server.Anonymous.GetAsync("/providers").JsonAsync(HttpStatusCode.OK);
        await server.Anonymous.GetAsync("/allocations").JsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Reads_need_a_token_of_either_role_when_configured()
    {
        await using var closed = await InventoryServer.StartAsync(new Dictionary<string, string?> { ["Inventory:RequireAuthForReads"] = "true" }, sharing: server);

        await closed.Anonymous.GetAsync("/gpus").ProblemAsync(HttpStatusCode.Unauthorized);
        await closed.Anonymous.GetAsync("/allocations").ProblemAsync(HttpStatusCode.Unauthorized);
        await closed.ReadOnly.GetAsync("/gpus").JsonAsync(HttpStatusCode.OK);
        await closed.Admin.GetAsync("/providers").JsonAsync(HttpStatusCode.OK);
        using var lowercase = closed.NewClient(null);
        lowercase.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("bearer", InventoryServer.ReadOnlyToken);
        await lowercase.GetAsync("/gpus").JsonAsync(HttpStatusCode.OK);
    }
}
