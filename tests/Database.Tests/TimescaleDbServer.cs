using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>
/// A real TimescaleDB 2.23 (WebAssembly inside PGlite, see scripts/timescale/start.sh) started for one
/// test class and stopped by PID afterwards. Missing Node.js or npm fails the tests that use it with
/// the script's message: the TimescaleDB path must never pass by not running.
/// PGlite has one database and one session shared by every connection, so the connection string
/// keeps Npgsql to a single connection that is never reset (a reset would discard session settings).
/// </summary>
public sealed class TimescaleDbServer : IAsyncLifetime
{
    private readonly string _stateDirectory = Path.Combine(Path.GetTempPath(), "pipeline-timescale-" + Guid.NewGuid().ToString("N")[..12]);
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("the TimescaleDB server has not started");

    public async Task InitializeAsync()
    {
        var started = await RunScriptAsync("start.sh", TimeSpan.FromMinutes(3));
        if (started.ExitCode != 0)
            throw new InvalidOperationException($"scripts/timescale/start.sh failed with exit code {started.ExitCode}:{Environment.NewLine}{started.Output}");
        var port = int.Parse(await File.ReadAllTextAsync(Path.Combine(_stateDirectory, "port")));
        _connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Password = "postgres",
            Database = "postgres",
            SslMode = SslMode.Disable,
            NoResetOnClose = true,
            MaxPoolSize = 1,
            // PGlite answers statements one at a time; a long migration must not time out waiting.
            CommandTimeout = 120,
        }.ConnectionString;
        // Startup options are ignored by PGlite and the session starts at debug3; the one shared
        // session keeps this setting for every later connection.
        await ExecuteAsync("SET client_min_messages = warning");
    }

    public Task<T> ScalarAsync<T>(string sql, params object[] args) => SqlStatements.ScalarAsync<T>(ConnectionString, sql, args);

    public Task ExecuteAsync(string sql, params object[] args) => SqlStatements.ExecuteAsync(ConnectionString, sql, args);

    public async Task DisposeAsync()
    {
        if (_connectionString is not null)
            NpgsqlConnection.ClearPool(new NpgsqlConnection(_connectionString));
        await RunScriptAsync("stop.sh", TimeSpan.FromSeconds(30));
        try
        {
            Directory.Delete(_stateDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private Task<ExternalCommand.Result> RunScriptAsync(string script, TimeSpan timeout) =>
        ExternalCommand.RunAsync("bash", [Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "timescale", script), _stateDirectory], timeout);
}
