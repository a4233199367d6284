using System.Diagnostics;
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
        var (exit, output) = await RunScriptAsync("start.sh", TimeSpan.FromMinutes(3));
        if (exit != 0)
            throw new InvalidOperationException($"scripts/timescale/start.sh failed with exit code {exit}:{Environment.NewLine}{output}");
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

    public async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await cmd.ExecuteNonQueryAsync();
    }

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

    private async Task<(int ExitCode, string Output)> RunScriptAsync(string script, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "timescale", script));
        start.ArgumentList.Add(_stateDirectory);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/timescale/{script} did not finish within {timeout}");
        }
        return (process.ExitCode, (await stdout) + (await stderr));
    }
}
