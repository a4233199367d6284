using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Pipeline.Database.Migrations;

public sealed record AppliedMigration(int Version, string Name, string Checksum, DateTimeOffset AppliedAt, int ExecutionMs);

public sealed record MigrationStatus(Migration Migration, AppliedMigration? Applied)
{
    public bool IsApplied => Applied is not null;
}

/// <summary>Refused because the database and the scripts disagree; nothing was changed.</summary>
public sealed class MigrationRefusedException(string message) : Exception(message);

/// <summary>
/// Applies and reverts migrations. A session-level advisory lock is held for the whole run, so two
/// runners against one database serialise and the second sees what the first applied; each
/// migration and its journal row commit in one transaction, so a failure leaves no half-applied step.
/// </summary>
public sealed class MigrationRunner(string connectionString, IReadOnlyList<Migration> migrations, ILogger? logger = null)
{
    // Arbitrary constant shared by every runner of this project: "pipe" "migr" in ASCII.
    private const long AdvisoryLockKey = 0x70697065_6d696772;
    private const string Journal = "schema_migrations";
    private readonly ILogger _log = logger ?? NullLogger.Instance;

    public MigrationRunner(string connectionString, ILogger? logger = null)
        : this(connectionString, MigrationCatalog.Embedded, logger) { }

    /// <summary>Applies every pending migration up to <paramref name="targetVersion"/> (all when null). Returns those applied.</summary>
    public async Task<IReadOnlyList<Migration>> UpAsync(int? targetVersion = null, CancellationToken cancellation = default)
    {
        await using var conn = await OpenLockedAsync(cancellation);
        try
        {
            return await UpLockedAsync(conn, targetVersion, cancellation);
        }
        finally
        {
            await UnlockAsync(conn);
        }
    }

    /// <summary>Reverts applied migrations newer than <paramref name="toVersion"/>, newest first (0 reverts all). Returns those reverted.</summary>
    public async Task<IReadOnlyList<Migration>> DownAsync(int toVersion, CancellationToken cancellation = default)
    {
        if (toVersion < 0) throw new ArgumentOutOfRangeException(nameof(toVersion), "must be 0 or a migration version");
        await using var conn = await OpenLockedAsync(cancellation);
        try
        {
            return await DownLockedAsync(conn, toVersion, cancellation);
        }
        finally
        {
            await UnlockAsync(conn);
        }
    }

    private async Task<IReadOnlyList<Migration>> UpLockedAsync(NpgsqlConnection conn, int? targetVersion, CancellationToken cancellation)
    {
        var applied = await ReadJournalAsync(conn, cancellation);
        RefuseDrift(applied);

        var done = new List<Migration>();
        foreach (var migration in migrations.Where(m => !applied.ContainsKey(m.Version) && (targetVersion is null || m.Version <= targetVersion)))
        {
            var clock = Stopwatch.StartNew();
            await using var tx = await conn.BeginTransactionAsync(cancellation);
            await ExecuteAsync(conn, tx, migration.UpSql, migration, "up", cancellation);
            await using (var insert = new NpgsqlCommand(
                $"INSERT INTO {Journal} (version, name, checksum, applied_at, execution_ms) VALUES ($1, $2, $3, now(), $4)", conn, tx))
            {
                insert.Parameters.Add(new() { Value = migration.Version });
                insert.Parameters.Add(new() { Value = migration.Name });
                insert.Parameters.Add(new() { Value = migration.Checksum });
                insert.Parameters.Add(new() { Value = (int)clock.ElapsedMilliseconds });
                await insert.ExecuteNonQueryAsync(cancellation);
            }
            await tx.CommitAsync(cancellation);
            _log.LogInformation("Applied migration {Version:D4} {Name} in {Ms} ms", migration.Version, migration.Name, clock.ElapsedMilliseconds);
            done.Add(migration);
        }
        return done;
    }

    private async Task<IReadOnlyList<Migration>> DownLockedAsync(NpgsqlConnection conn, int toVersion, CancellationToken cancellation)
    {
        var applied = await ReadJournalAsync(conn, cancellation);
        RefuseDrift(applied);

        var unknown = applied.Keys.Where(v => migrations.All(m => m.Version != v)).ToList();
        if (unknown.Any(v => v > toVersion))
            throw new MigrationRefusedException(
                $"The database has migration(s) {string.Join(", ", unknown.Select(v => v.ToString("D4")))} that this build does not know; " +
                "revert them with the build that applied them.");

        var done = new List<Migration>();
        foreach (var migration in migrations.Where(m => applied.ContainsKey(m.Version) && m.Version > toVersion).OrderByDescending(m => m.Version))
        {
            var clock = Stopwatch.StartNew();
            await using var tx = await conn.BeginTransactionAsync(cancellation);
            await ExecuteAsync(conn, tx, migration.DownSql, migration, "down", cancellation);
            await using (var delete = new NpgsqlCommand($"DELETE FROM {Journal} WHERE version = $1", conn, tx))
            {
                delete.Parameters.Add(new() { Value = migration.Version });
                await delete.ExecuteNonQueryAsync(cancellation);
            }
            await tx.CommitAsync(cancellation);
            _log.LogInformation("Reverted migration {Version:D4} {Name} in {Ms} ms", migration.Version, migration.Name, clock.ElapsedMilliseconds);
            done.Add(migration);
        }
        return done;
    }

    /// <summary>Every known migration with its journal entry, if applied. Does not take the lock and writes nothing.</summary>
    public async Task<IReadOnlyList<MigrationStatus>> StatusAsync(CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(cancellation);
        // Creating the journal here would race a concurrent first 'migrate up', which creates it under the lock.
        await using var exists = new NpgsqlCommand($"SELECT to_regclass('{Journal}') IS NOT NULL", conn);
        var applied = (bool)(await exists.ExecuteScalarAsync(cancellation))!
            ? await ReadJournalAsync(conn, cancellation)
            : [];
        return migrations.Select(m => new MigrationStatus(m, applied.GetValueOrDefault(m.Version))).ToList();
    }

    private async Task<NpgsqlConnection> OpenLockedAsync(CancellationToken cancellation)
    {
        var conn = new NpgsqlConnection(connectionString);
        try
        {
            await conn.OpenAsync(cancellation);
            // Session lock: held across the per-migration transactions, released when the connection closes.
            await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_lock($1)", conn))
            {
                lockCmd.Parameters.Add(new() { Value = AdvisoryLockKey });
                lockCmd.CommandTimeout = 0;
                await lockCmd.ExecuteNonQueryAsync(cancellation);
            }
            await EnsureJournalAsync(conn, cancellation);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static async Task UnlockAsync(NpgsqlConnection conn)
    {
        // Closing the connection releases the lock only when the session really ends or is reset;
        // a pooled connection with No Reset On Close (PGlite, some poolers) would keep it.
        if (conn.FullState != System.Data.ConnectionState.Open) return;
        try
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", conn);
            unlock.Parameters.Add(new() { Value = AdvisoryLockKey });
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // The connection broke; the server drops the session and its locks with it.
        }
    }

    private static async Task EnsureJournalAsync(NpgsqlConnection conn, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand($"""
            CREATE TABLE IF NOT EXISTS {Journal} (
                version      integer PRIMARY KEY,
                name         text NOT NULL,
                checksum     text NOT NULL,
                applied_at   timestamptz NOT NULL,
                execution_ms integer NOT NULL
            )
            """, conn);
        await cmd.ExecuteNonQueryAsync(cancellation);
    }

    private static async Task<Dictionary<int, AppliedMigration>> ReadJournalAsync(NpgsqlConnection conn, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand($"SELECT version, name, checksum, applied_at, execution_ms FROM {Journal} ORDER BY version", conn);
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        var result = new Dictionary<int, AppliedMigration>();
        while (await reader.ReadAsync(cancellation))
            result[reader.GetInt32(0)] = new AppliedMigration(reader.GetInt32(0), reader.GetString(1), reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt32(4));
        return result;
    }

    private void RefuseDrift(IReadOnlyDictionary<int, AppliedMigration> applied)
    {
        foreach (var migration in migrations)
        {
            if (applied.TryGetValue(migration.Version, out var row) && row.Checksum != migration.Checksum)
                throw new MigrationRefusedException(
                    $"Migration {migration.Version:D4} ({migration.Name}) was applied on {row.AppliedAt:u} with checksum {Abbreviate(row.Checksum)}, " +
                    $"but sql/migrations/{migration.FileName} now has checksum {Abbreviate(migration.Checksum)}. " +
                    "An applied migration must not change: restore the file and put the change in a new migration.");
        }
    }

    private static string Abbreviate(string checksum) => checksum.Length > 12 ? checksum[..12] + "…" : checksum;

    private static async Task ExecuteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, Migration migration, string direction, CancellationToken cancellation)
    {
        try
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(cancellation);
        }
        catch (PostgresException ex)
        {
            throw new MigrationRefusedException(
                $"Migration {migration.Version:D4} ({migration.Name}) {direction} failed and was rolled back: {ex.MessageText}" +
                (ex.Position > 0 ? $" (at character {ex.Position})" : ""));
        }
    }
}
