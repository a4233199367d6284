using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pipeline.Inventory.Auth;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Providers;

public static class ProviderEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var providers = app.MapGroup("/providers").WithTags("Providers");

        providers.MapGet("", async (string? limit, string? cursor, ProviderStore store, InventoryOptions options, CancellationToken ct) =>
                TypedResults.Ok(await store.ListAsync(
                    Input.PageSize(limit, options),
                    PageCursor.Decode(cursor, ProviderStore.Ordering), ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("List providers by id, keyset-paginated");

        providers.MapGet("/{id}", async (string id, ProviderStore store, HttpResponse response, CancellationToken ct) =>
            {
                var provider = await store.GetAsync(id, ct);
                RowVersion.SetETag(response, provider.Version);
                return TypedResults.Ok(provider);
            })
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("One provider; ETag carries the row version");

        providers.MapPost("", async (HttpRequest request, ProviderStore store, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<ProviderInput>(request, ct);
                var created = await store.CreateAsync(
                    Input.Text(input.Id, "id", 128), Input.Text(input.Name, "name", 256), Input.OptionalText(input.Contact, "contact", 1024), ct);
                RowVersion.SetETag(request.HttpContext.Response, created.Version);
                return TypedResults.Created($"/providers/{Uri.EscapeDataString(created.Id)}", created);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<ProviderInput>("application/json")
            .WithSummary("Register a provider");

        providers.MapPut("/{id}", async (string id, HttpRequest request, ProviderStore store, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<ProviderInput>(request, ct);
                if (input.Id is not null && input.Id != id)
                    throw ProblemException.Invalid("id", $"'id' in the body ('{input.Id}') differs from the URL ('{id}'); ids cannot be changed.");
                var updated = await store.UpdateAsync(
                    id, Input.Text(input.Name, "name", 256), Input.OptionalText(input.Contact, "contact", 1024), RowVersion.ExpectedVersion(request), ct);
                RowVersion.SetETag(request.HttpContext.Response, updated.Version);
                return TypedResults.Ok(updated);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<ProviderInput>("application/json")
            .WithSummary("Replace a provider's name and contact; If-Match \"version\" makes it conditional (412 when stale)");

        providers.MapDelete("/{id}", async (string id, HttpRequest request, ProviderStore store, CancellationToken ct) =>
            {
                await store.DeleteAsync(id, RowVersion.ExpectedVersion(request), ct);
                return TypedResults.NoContent();
            })
            .RequireAuthorization(AccessPolicies.Write)
            .WithSummary("Remove a provider without GPUs (otherwise 409)");
    }
}
