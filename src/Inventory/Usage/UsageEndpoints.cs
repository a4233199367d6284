using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Pipeline.Inventory.Auth;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Usage;

public static class UsageEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/gpus/{id}/usage", async (string id, string? from, string? to, string? width, UsageStore store, InventoryOptions options, CancellationToken ct) =>
            {
                var end = Input.QueryTime(to, "to") ?? DateTime.UtcNow;
                var start = Input.QueryTime(from, "from") ?? end - TimeSpan.FromHours(1);
                var bucket = Input.QueryDuration(width, "width") ?? TimeSpan.FromMinutes(1);
                if (start >= end) throw ProblemException.Invalid("from", "'from' must be before 'to'.");
                if (end - start > options.MaxUsageRange)
                    throw ProblemException.Invalid("from", $"The range from 'from' to 'to' may span at most {options.MaxUsageRange} (Inventory:MaxUsageRange).");
                // Bounds the answer: a bucket may start before 'from', so allow one extra.
                var buckets = Math.Ceiling((end - start) / bucket) + 1;
                if (buckets > options.MaxUsageBuckets)
                    throw ProblemException.Invalid("width", $"This range and width give {buckets} buckets; at most {options.MaxUsageBuckets} are allowed (Inventory:MaxUsageBuckets). Use a wider bucket.");
                return TypedResults.Ok(await store.BucketsAsync(id, start, end, bucket, ct));
            })
            .RequireAuthorization(AccessPolicies.Read)
            .WithTags("Usage")
            .WithSummary("Usage of one GPU in time buckets: from, to (ISO 8601, default the last hour) and width (30s, 5m, 1h; default 1m)");
    }
}
