using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Pipeline.Ingest.Http;

/// <summary>
/// The ingest's HTTP listener: /metrics (Prometheus text format), /health/live (the process
/// runs) and /health/ready (it owns partitions and reaches the database).
/// </summary>
public sealed class IngestHttpEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private IngestHttpEndpoint(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The port actually listened on (the chosen one when 0 was asked for).</summary>
    public int Port { get; }

    public static async Task<IngestHttpEndpoint> StartAsync(int port, CollectorRegistry registry, Func<CancellationToken, Task<bool>> isReady,
        CancellationToken cancellation)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(port));
        var app = builder.Build();
        app.MapMetrics("/metrics", registry);
        app.MapGet("/health/live", () => Results.Text("live\n"));
        app.MapGet("/health/ready", async (HttpContext http) =>
            await isReady(http.RequestAborted) ? Results.Text("ready\n") : Results.Text("not ready\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        await app.StartAsync(cancellation);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel reported no listening address");
        return new IngestHttpEndpoint(app, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
