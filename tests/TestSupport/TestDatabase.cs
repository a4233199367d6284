using Npgsql;
using Xunit;
using Pipeline.Database.Migrations;

namespace Pipeline.TestSupport;

/// <summary>
/// A fresh database on the real local PostgreSQL, owned by one test class (use as an xUnit
/// IClassFixture or create one per test). Migrated to the latest schema unless asked not to;
/// dropped on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable, IAsyncLifetime
{
    private readonly bool _migrate;

    public TestDatabase() : this(migrate: true) { }

    public TestDatabase(bool migrate)
    {
        _migrate = migrate;
        Name = "t_" + Guid.NewGuid().ToString("N")[..20];
        var builder = new NpgsqlConnectionStringBuilder(TestEnvironment.DatabaseConnectionString) { Database = Name };
        ConnectionString = builder.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public async Task InitializeAsync()
    {
        await AdminAsync($"CREATE DATABASE \"{Name}\"");
        if (_migrate) await new MigrationRunner(ConnectionString).UpAsync();
    }

    public NpgsqlConnection Open()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        conn.Open();
        return conn;
    }

    public Task<T> ScalarAsync<T>(string sql, params object[] args) => SqlStatements.ScalarAsync<T>(ConnectionString, sql, args);

    public Task ExecuteAsync(string sql, params object[] args) => SqlStatements.ExecuteAsync(ConnectionString, sql, args);

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    private static async Task AdminAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(TestEnvironment.DatabaseConnectionString);
        await conn.OpenAsync();
        // CREATE/DROP DATABASE wait for a checkpoint; under a loaded suite they queue, so no timeout.
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
    }
}
