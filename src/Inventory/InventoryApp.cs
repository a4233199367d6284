using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Pipeline.Database;
using Pipeline.Inventory.Allocations;
using Pipeline.Inventory.Auth;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Gpus;
using Pipeline.Inventory.Health;
using Pipeline.Inventory.Providers;
using Pipeline.Inventory.Usage;

namespace Pipeline.Inventory;

/// <summary>
/// Builds the inventory HTTP API: providers, GPUs, health and verification records, status,
/// usage and allocations over PostgreSQL. `pipeline inventory serve` runs it; tests host it on
/// http://127.0.0.1:0 and read the bound address from <c>app.Urls</c> after start.
/// </summary>
public static class InventoryApp
{
    public static WebApplication Build(IConfiguration configuration)
    {
        var options = InventoryOptions.From(configuration);
        var database = DatabaseOptions.From(configuration);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "Pipeline.Inventory",
            ContentRootPath = AppContext.BaseDirectory,
        });
        // One configuration path: exactly what the caller built (appsettings.json, PIPELINE_*, flags).
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(database.ConnectionString));
        builder.Services.AddSingleton<ProviderStore>();
        builder.Services.AddSingleton<GpuStore>();
        builder.Services.AddSingleton<HealthStore>();
        builder.Services.AddSingleton<UsageStore>();
        builder.Services.AddSingleton<AllocationStore>();

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        // Bearer tokens protect nothing with data protection; an in-memory key ring avoids writing keys to disk.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddAuthorization(authorization => AccessPolicies.Add(authorization, options.RequireAuthForReads));
        builder.Services.AddOpenApi(openApi => OpenApiSecurity.Add(openApi, options.RequireAuthForReads));

        var app = builder.Build();
        if (options.Tokens.Count == 0)
            app.Logger.LogWarning("No Inventory:Tokens are configured: every write will answer 401");

        app.UseExceptionHandler();
        // Empty 4xx/5xx answers (unmatched route, wrong method) become problem+json too.
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapOpenApi();
        app.MapGet("/healthz", async (NpgsqlDataSource db, CancellationToken ct) =>
            {
                await using var cmd = db.CreateCommand("SELECT 1");
                await cmd.ExecuteScalarAsync(ct);
                return TypedResults.Ok(new { status = "ok" });
            })
            .WithSummary("Liveness: the API answers and reaches the database");
        ProviderEndpoints.Map(app);
        GpuEndpoints.Map(app);
        HealthEndpoints.Map(app);
        UsageEndpoints.Map(app);
        AllocationEndpoints.Map(app);
        return app;
    }
}
