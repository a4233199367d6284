using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Inventory.Tests;

/// <summary>
/// The inventory API on a real Kestrel port (http://127.0.0.1:0) over a fresh migrated database.
/// Use as an xUnit class fixture; <see cref="StartAsync"/> adds one with other settings over the same database.
/// </summary>
public sealed class InventoryServer : IAsyncLifetime, IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-4f1c9a7e";
    public const string ReadOnlyToken = "test-readonly-token-b82d06c3";
    public const long MaxBodyBytes = 64 * 1024;

    private readonly IReadOnlyDictionary<string, string?> _overrides;
    private readonly bool _ownsDatabase;
    private WebApplication? _app;

    public InventoryServer() : this(new Dictionary<string, string?>(), null) { }

    private InventoryServer(IReadOnlyDictionary<string, string?> overrides, TestDatabase? sharedDatabase)
    {
        _overrides = overrides;
        _ownsDatabase = sharedDatabase is null;
        Database = sharedDatabase ?? new TestDatabase();
    }

    public TestDatabase Database { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>No Authorization header.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public HttpClient ReadOnly { get; private set; } = null!;

    /// <summary>A second API with other settings over the database of <paramref name="sharing"/> (creating databases is slow).</summary>
    public static async Task<InventoryServer> StartAsync(IReadOnlyDictionary<string, string?> overrides, InventoryServer sharing)
    {
        var server = new InventoryServer(overrides, sharing.Database);
        await server.InitializeAsync();
        return server;
    }

    public async Task InitializeAsync()
    {
        if (_ownsDatabase) await ((IAsyncLifetime)Database).InitializeAsync();
        var settings = new Dictionary<string, string?>
        {
            // A bounded pool: 100 concurrent requests queue for connections instead of exhausting the shared server.
            ["Database:ConnectionString"] = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { MaxPoolSize = 20 }.ConnectionString,
            ["Inventory:Urls"] = "http://127.0.0.1:0",
            ["Inventory:Tokens:ops:Token"] = AdminToken,
            ["Inventory:Tokens:ops:Role"] = "admin",
            ["Inventory:Tokens:dashboard:Token"] = ReadOnlyToken,
            ["Inventory:Tokens:dashboard:Role"] = "readonly",
            ["Inventory:MaxRequestBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Inventory:MaxPageSize"] = "100",
            ["Inventory:DefaultPageSize"] = "20",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
        };
        foreach (var (key, value) in _overrides) settings[key] = value;

        _app = InventoryApp.Build(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.Single());
        Anonymous = NewClient(null);
        Admin = NewClient(AdminToken);
        ReadOnly = NewClient(ReadOnlyToken);
    }

    public HttpClient NewClient(string? token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        Anonymous?.Dispose();
        Admin?.Dispose();
        ReadOnly?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_ownsDatabase) await Database.DisposeAsync();
    }
}
