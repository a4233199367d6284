using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Pipeline.Inventory.Auth;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Gpus;

public static class GpuEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var gpus = app.MapGroup("/gpus").WithTags("GPUs");

        gpus.MapGet("", async ([AsParameters] GpuListQuery query, GpuStore store, InventoryOptions options, CancellationToken ct) =>
                TypedResults.Ok(await store.ListAsync(query.Parse(options), ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("List and search GPUs: filters, sort, keyset pagination");

        gpus.MapGet("/{id}", async (string id, GpuStore store, HttpResponse response, CancellationToken ct) =>
            {
                var gpu = await store.GetAsync(id, ct);
                RowVersion.SetETag(response, gpu.Version);
                return TypedResults.Ok(gpu);
            })
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("One GPU with its derived status; ETag carries the row version");

        gpus.MapPost("", async (HttpRequest request, GpuStore store, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<GpuInput>(request, ct);
                var created = (await store.CreateAsync([GpuFields.From(input)], bulk: false, ct))[0];
                RowVersion.SetETag(request.HttpContext.Response, created.Version);
                return TypedResults.Created($"/gpus/{Uri.EscapeDataString(created.Id)}", created);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<GpuInput>("application/json")
            .WithSummary("Register one GPU");

        gpus.MapPost("/bulk", async (HttpRequest request, GpuStore store, InventoryOptions options, CancellationToken ct) =>
            {
                var inputs = await JsonBody.ReadAsync<GpuInput[]>(request, ct);
                if (inputs.Length == 0 || inputs.Length > options.MaxBulkGpus)
                    throw ProblemException.Invalid("body", $"Send 1 to {options.MaxBulkGpus} GPUs in one bulk request (Inventory:MaxBulkGpus).");
                var fields = inputs.Select((input, i) => GpuFields.From(input, $"[{i}].")).ToList();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < fields.Count; i++)
                    if (!seen.Add(fields[i].Id))
                        throw ProblemException.Invalid($"[{i}].id", $"GPU id '{fields[i].Id}' appears twice in this request.");
                return TypedResults.Created("/gpus", await store.CreateAsync(fields, bulk: true, ct));
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<GpuInput[]>("application/json")
            .WithSummary("Register many GPUs at once: all or none");

        gpus.MapPut("/{id}", async (string id, HttpRequest request, GpuStore store, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<GpuInput>(request, ct);
                var updated = await store.UpdateAsync(GpuFields.From(input, routeId: id), RowVersion.ExpectedVersion(request), ct);
                RowVersion.SetETag(request.HttpContext.Response, updated.Version);
                return TypedResults.Ok(updated);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<GpuInput>("application/json")
            .WithSummary("Replace a GPU's editable fields; If-Match \"version\" makes it conditional (412 when stale)");

        gpus.MapDelete("/{id}", async (string id, HttpRequest request, GpuStore store, CancellationToken ct) =>
            {
                await store.DeleteAsync(id, RowVersion.ExpectedVersion(request), ct);
                return TypedResults.NoContent();
            })
            .RequireAuthorization(AccessPolicies.Write)
            .WithSummary("Remove a GPU that was never allocated (otherwise 409: retire it instead)");
    }
}
