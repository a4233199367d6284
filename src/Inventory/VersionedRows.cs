using Npgsql;
using NpgsqlTypes;
using Pipeline.Inventory.Errors;

namespace Pipeline.Inventory;

/// <summary>
/// Writes to a table with `id` and `version` columns that only apply while the row is at the
/// version the client expects (see <see cref="Http.RowVersion"/>). Table names come from code, never from input.
/// </summary>
internal static class VersionedRows
{
    /// <summary>Deletes the row; a foreign key still pointing at it becomes <paramref name="whenReferenced"/>.</summary>
    public static async Task DeleteAsync(NpgsqlDataSource db, string table, string noun, string id, long? expectedVersion,
        ProblemException whenReferenced, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand($"DELETE FROM {table} WHERE id = @id AND (@expected IS NULL OR version = @expected)");
        cmd.With("id", NpgsqlDbType.Text, id).With("expected", NpgsqlDbType.Bigint, expectedVersion);
        int deleted;
        try
        {
            deleted = await cmd.ExecuteNonQueryAsync(cancellation);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrors.ForeignKeyViolation)
        {
            throw whenReferenced;
        }
        if (deleted == 0) await ThrowMissingOrStaleAsync(db, table, noun, id, expectedVersion, cancellation);
    }

    /// <summary>After a guarded write touched no row: 404 when the row is gone, else 412 naming its current version.</summary>
    public static async Task ThrowMissingOrStaleAsync(NpgsqlDataSource db, string table, string noun, string id, long? expectedVersion,
        CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand($"SELECT version FROM {table} WHERE id = @id");
        cmd.With("id", NpgsqlDbType.Text, id);
        if (await cmd.ExecuteScalarAsync(cancellation) is long current)
            throw ProblemException.VersionMismatch($"{noun} '{id}' is at version {current}, not {expectedVersion}; read it again and retry.");
        throw ProblemException.NotFound($"{noun} '{id}' does not exist.");
    }
}
