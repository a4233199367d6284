using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Pipeline.Database.Migrations;

namespace Pipeline.TestSupport;

/// <summary>
/// A private PostgreSQL 15 cluster in a temporary folder, for tests that stop, restart or crash the
/// database under a running ingest without disturbing the shared cluster every other test uses.
/// The server is controlled by the postmaster's process id only; it keeps its data directory and
/// port across <see cref="StopAsync"/>/<see cref="KillAsync"/> and <see cref="StartAsync"/>.
/// Holds one migrated database, <see cref="DatabaseName"/>. Deleted on dispose.
/// </summary>
public sealed class ThrowawayPostgresCluster : IAsyncDisposable
{
    public const string DatabaseName = "pipeline";

    private static readonly string PgBin = Environment.GetEnvironmentVariable("PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";
    // initdb and the server refuse to run as root; CI runs as root, so they run as this user
    // (the same one scripts/local-env.sh uses).
    private static readonly string OsUser = Environment.GetEnvironmentVariable("PIPELINE_PG_OS_USER") is { Length: > 0 } user ? user : "pipeline-pg";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);

    private readonly string _root;
    private readonly string _dataDirectory;
    private readonly string _logFile;
    private int? _postmasterPid;

    private ThrowawayPostgresCluster(string root, int port)
    {
        _root = root;
        _dataDirectory = Path.Combine(root, "data");
        _logFile = Path.Combine(root, "postgresql.log");
        Port = port;
    }

    public int Port { get; }

    /// <summary>The migrated database, as the ingest process should see it.</summary>
    public string ConnectionString => ConnectionStringFor(DatabaseName);

    /// <summary>For the test's own queries: no pooling, so a restart leaves no dead connection behind.</summary>
    public string UnpooledConnectionString => new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 }.ConnectionString;

    public bool IsRunning => _postmasterPid is { } pid && PosixProcesses.IsAlive(pid);

    /// <summary>initdb, start, create <see cref="DatabaseName"/> and apply every migration.</summary>
    public static async Task<ThrowawayPostgresCluster> StartNewAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "pipeline-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var cluster = new ThrowawayPostgresCluster(root, FreePort());
        try
        {
            await cluster.InitializeAsync();
            await cluster.StartAsync();
            await using (var conn = new NpgsqlConnection(cluster.UnpooledFor("postgres")))
            {
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\"", conn);
                await cmd.ExecuteNonQueryAsync();
            }
            await new MigrationRunner(cluster.UnpooledConnectionString).UpAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server on the same data and port; returns once it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (IsRunning) throw new InvalidOperationException("the cluster is already running");
        var result = await ExternalCommand.RunAsync(AsServerUser(), ServerUserArguments(
            Path.Combine(PgBin, "pg_ctl"), "-D", _dataDirectory, "-l", _logFile, "-w", "-t", "60", "start"), ToolTimeout);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"pg_ctl start failed ({result.ExitCode}): {result.Output}\n{LogTail()}");
        _postmasterPid = ReadPostmasterPid()
            ?? throw new InvalidOperationException("postgresql started but wrote no postmaster.pid\n" + LogTail());
    }

    /// <summary>Fast shutdown (SIGINT): open transactions roll back, clients are disconnected.</summary>
    public async Task StopAsync()
    {
        if (_postmasterPid is not { } pid) return;
        PosixProcesses.Signal(pid, PosixProcesses.SigInt);
        if (!await PosixProcesses.WaitForExitAsync(pid, TimeSpan.FromSeconds(60)))
            throw new TimeoutException($"postgresql (pid {pid}) did not stop\n{LogTail()}");
        _postmasterPid = null;
    }

    /// <summary>
    /// A crash: SIGKILL to the postmaster and every backend at once (a lone killed postmaster would
    /// leave backends holding its shared memory). The next start runs crash recovery; committed
    /// work survives because commits reach the kernel before they are acknowledged.
    /// </summary>
    public async Task KillAsync()
    {
        if (_postmasterPid is not { } pid) return;
        var backends = PosixProcesses.ChildrenOf(pid);
        PosixProcesses.Signal(pid, PosixProcesses.SigKill);
        foreach (var child in backends) PosixProcesses.Signal(child, PosixProcesses.SigKill);
        await PosixProcesses.WaitForExitAsync(pid, TimeSpan.FromSeconds(30));
        foreach (var child in backends) await PosixProcesses.WaitForExitAsync(child, TimeSpan.FromSeconds(30));
        // The dead postmaster may linger as a zombie nobody reaps yet, and the next postmaster
        // would take that for a live owner of the lock file: remove the file for it.
        if (ReadPostmasterPid() == pid) File.Delete(Path.Combine(_dataDirectory, "postmaster.pid"));
        _postmasterPid = null;
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var conn = new NpgsqlConnection(UnpooledConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The end of the server log, for assertion messages.</summary>
    public string LogTail(int lines = 30)
    {
        try
        {
            return "--- postgresql log (tail) ---\n" + string.Join('\n', File.ReadLines(_logFile).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no postgresql log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (IsRunning)
            {
                try { await StopAsync(); }
                catch (TimeoutException) { await KillAsync(); }
            }
        }
        finally
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    private string UnpooledFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionStringFor(database)) { Pooling = false }.ConnectionString;

    private async Task InitializeAsync()
    {
        if (PosixProcesses.IsRoot)
        {
            await EnsureServerUserAsync();
            await ExternalCommand.RunCheckedAsync("chown", [OsUser, _root], ToolTimeout);
        }
        // --no-sync: a throwaway cluster need not survive a power cut, only a process crash.
        await ExternalCommand.RunCheckedAsync(AsServerUser(), ServerUserArguments(
            Path.Combine(PgBin, "initdb"), "-D", _dataDirectory, "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"), ToolTimeout);
        // fsync=off is safe here: a killed server loses nothing the kernel already has, and a commit
        // is written to the kernel before it is acknowledged (synchronous_commit stays on).
        var settings = string.Join('\n',
            "# --- throwaway test cluster ---",
            "listen_addresses = '127.0.0.1'",
            $"port = {Port.ToString(CultureInfo.InvariantCulture)}",
            "unix_socket_directories = ''",
            "max_connections = 100",
            "shared_buffers = 128MB",
            "fsync = off",
            "full_page_writes = off",
            "synchronous_commit = on",
            "max_locks_per_transaction = 256",
            "log_min_messages = warning",
            "");
        await File.AppendAllTextAsync(Path.Combine(_dataDirectory, "postgresql.conf"), settings);
    }

    private int? ReadPostmasterPid()
    {
        var path = Path.Combine(_dataDirectory, "postmaster.pid");
        if (!File.Exists(path)) return null;
        var first = File.ReadLines(path).FirstOrDefault();
        return int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    private static string AsServerUser() => PosixProcesses.IsRoot ? "runuser" : "env";

    private static IEnumerable<string> ServerUserArguments(params string[] command) =>
        PosixProcesses.IsRoot ? ["-u", OsUser, "--", .. command] : command;

    private static async Task EnsureServerUserAsync()
    {
        if ((await ExternalCommand.RunAsync("id", [OsUser], ToolTimeout)).ExitCode == 0) return;
        var created = await ExternalCommand.RunAsync("useradd",
            ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OsUser], ToolTimeout);
        // Another test may have created it in the meantime (exit code 9: already exists).
        if (created.ExitCode is not (0 or 9))
            throw new InvalidOperationException($"useradd {OsUser} failed ({created.ExitCode}): {created.Output}");
    }

    /// <summary>
    /// A port below the kernel's ephemeral range (32768+), so no outgoing connection can take it
    /// while the server is stopped and the restart finds it free.
    /// </summary>
    private static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                probe.Stop();
                return port;
            }
            catch (SocketException)
            {
                // taken; try another
            }
        }
        throw new InvalidOperationException("no free port found for a throwaway PostgreSQL cluster");
    }
}
