using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pipeline.Inventory.Auth;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Allocations;

public static class AllocationEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var allocations = app.MapGroup("/allocations").WithTags("Allocations");

        allocations.MapPost("", async (HttpRequest request, AllocationStore store, InventoryOptions options, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<AllocationInput>(request, ct);
                var allocation = await store.AllocateAsync(Validate(input, options), ct);
                return TypedResults.Created($"/allocations/{allocation.Id}", allocation);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<AllocationInput>("application/json")
            .WithSummary("Lease N GPUs matching constraints: all N or none (409)");

        allocations.MapGet("", async (string? tenant, string? state, string? limit, string? cursor, AllocationStore store, InventoryOptions options, CancellationToken ct) =>
                TypedResults.Ok(await store.ListAsync(
                    string.IsNullOrEmpty(tenant) ? null : tenant,
                    Input.QueryOneOf(state, "state", LeaseSql.States),
                    Input.PageSize(limit, options),
                    PageCursor.Decode(cursor, AllocationStore.Ordering), ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("Allocations newest first; filter by tenant and state");

        allocations.MapGet("/{id:guid}", async (Guid id, AllocationStore store, CancellationToken ct) => TypedResults.Ok(await store.GetAsync(id, ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("One allocation and its GPUs");

        allocations.MapPost("/{id:guid}/release", async (Guid id, AllocationStore store, CancellationToken ct) => TypedResults.Ok(await store.ReleaseAsync(id, ct)))
            .RequireAuthorization(AccessPolicies.Write)
            .WithSummary("End a lease early; idempotent");
    }

    private static AllocationRequest Validate(AllocationInput input, InventoryOptions options)
    {
        var maxLeaseSeconds = (int)Math.Min(int.MaxValue, options.MaxLease.TotalSeconds);
        var capabilities = input.Capabilities ?? [];
        if (capabilities.Length > 16) throw ProblemException.Invalid("capabilities", "At most 16 capability keys are allowed.");
        return new AllocationRequest(
            Tenant: Input.Text(input.Tenant, "tenant", 256),
            Count: Input.Int(input.Count, "count", 1, options.MaxAllocationCount),
            Lease: TimeSpan.FromSeconds(Input.Int(input.LeaseSeconds, "leaseSeconds", 1, maxLeaseSeconds)),
            Model: Input.OptionalText(input.Model, "model", 128),
            MinMemoryMib: input.MinMemoryMib is null ? null : Input.Int(input.MinMemoryMib, "minMemoryMib", 0, int.MaxValue),
            Region: Input.OptionalText(input.Region, "region", 64),
            ProviderId: Input.OptionalText(input.ProviderId, "providerId", 128),
            Capabilities: capabilities.Select((c, i) => Input.Text(c, $"capabilities[{i}]", 128)).ToList());
    }
}
