using Microsoft.Extensions.Hosting;
using Pipeline.Inventory;

namespace Pipeline.Cli.Commands;

public sealed class InventoryServeCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["inventory", "serve"];
    public string Summary => "serve the GPU inventory HTTP API (providers, GPUs, status, usage, allocations)";
    public string Usage => """
        --Inventory:Urls=http://127.0.0.1:8080       where to listen
        --Inventory:Tokens:NAME:Token=... --Inventory:Tokens:NAME:Role=admin|readonly
        --Inventory:RequireAuthForReads=false         reads need a token too when true
        --Inventory:OfflineAfter=2m                   heartbeat age after which a GPU is offline
        --Inventory:MaxPageSize=500 --Inventory:DefaultPageSize=50 --Inventory:MaxRequestBodyBytes=1048576
        --Inventory:MaxBulkGpus=1000 --Inventory:MaxAllocationCount=256 --Inventory:MaxLease=30d
        --Inventory:MaxUsageBuckets=2000 --Inventory:MaxUsageRange=31d
        --Database:ConnectionString=...               the schema must be migrated (pipeline migrate up)
        OpenAPI document: GET /openapi/v1.json; docs/inventory-api.md describes the API.
        """;

    public async Task<int> RunAsync(CliContext context, CancellationToken cancellation)
    {
        await using var app = InventoryApp.Build(context.Configuration);
        await app.StartAsync(cancellation);
        context.Out.WriteLine($"inventory serve: listening on {string.Join(", ", app.Urls)}");
        await app.WaitForShutdownAsync(cancellation);
        return 0;
    }
}
