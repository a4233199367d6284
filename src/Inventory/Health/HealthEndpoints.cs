using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pipeline.Inventory.Auth;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Health;

public static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var gpu = app.MapGroup("/gpus/{id}").WithTags("Health");

        gpu.MapGet("/status", async (string id, HealthStore store, CancellationToken ct) => TypedResults.Ok(await store.StatusAsync(id, ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("Derived status (online/offline/degraded) and the heartbeat state and checks behind it");

        gpu.MapPost("/health-checks", async (string id, HttpRequest request, HealthStore store, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<HealthCheckInput>(request, ct);
                var passed = input.Passed ?? throw ProblemException.Invalid("passed", "'passed' is required (true or false).");
                var check = await store.RecordCheckAsync(
                    id, Input.Text(input.CheckName, "checkName", 128), passed, Input.JsonObject(input.Details, "details"),
                    Input.EventTime(input.CheckedAt, "checkedAt"), ct);
                return TypedResults.Created($"/gpus/{Uri.EscapeDataString(id)}/health-checks", check);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<HealthCheckInput>("application/json")
            .WithSummary("Record a health check result; a failed latest result of any check makes the GPU degraded");

        gpu.MapGet("/health-checks", async (string id, string? limit, string? cursor, HealthStore store, InventoryOptions options, CancellationToken ct) =>
                TypedResults.Ok(await store.ListChecksAsync(
                    id, Input.PageSize(limit, options),
                    PageCursor.Decode(cursor, HealthStore.HistoryOrdering), ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("Health check history, latest first");

        gpu.MapPost("/verifications", async (string id, HttpRequest request, HealthStore store, CancellationToken ct) =>
            {
                var input = await JsonBody.ReadAsync<VerificationInput>(request, ct);
                var verification = await store.RecordVerificationAsync(
                    id, Input.Text(input.Verifier, "verifier", 256), Input.OneOf(input.Result, "result", ["passed", "failed", "inconclusive"]),
                    Input.JsonObject(input.Evidence, "evidence"), Input.EventTime(input.VerifiedAt, "verifiedAt"), ct);
                return TypedResults.Created($"/gpus/{Uri.EscapeDataString(id)}/verifications", verification);
            })
            .RequireAuthorization(AccessPolicies.Write)
            .Accepts<VerificationInput>("application/json")
            .WithSummary("Record a verification result (passed, failed or inconclusive)");

        gpu.MapGet("/verifications", async (string id, string? limit, string? cursor, HealthStore store, InventoryOptions options, CancellationToken ct) =>
                TypedResults.Ok(await store.ListVerificationsAsync(
                    id, Input.PageSize(limit, options),
                    PageCursor.Decode(cursor, HealthStore.HistoryOrdering), ct)))
            .RequireAuthorization(AccessPolicies.Read)
            .WithSummary("Verification history, latest first");
    }
}
