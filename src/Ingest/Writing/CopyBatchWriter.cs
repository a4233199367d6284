using Npgsql;

namespace Pipeline.Ingest.Writing;

/// <summary>
/// Writes one time-series table's rows with binary COPY. Rows repeating a (gpu_id, time) already in
/// the batch are dropped before the COPY (the unique index would reject the whole COPY); rows
/// repeating stored ones make the fast path fail, and the caller reruns the batch with
/// <see cref="WriteMode.SkipDuplicates"/>. Not thread-safe: one instance per writer connection.
/// </summary>
public abstract class CopyBatchWriter<T>
{
    private readonly HashSet<(string GpuId, DateTimeOffset Time)> _seen = [];
    private readonly List<T> _unique = [];

    protected abstract string Table { get; }

    /// <summary>Column list in the order <see cref="WriteRow"/> writes them.</summary>
    protected abstract string Columns { get; }

    protected abstract (string GpuId, DateTimeOffset Time) KeyOf(in T row);

    /// <summary>Writes one row's values with the typed Write overloads (no type lookup per value).</summary>
    protected abstract void WriteRow(NpgsqlBinaryImporter importer, in T row);

    public async Task<TableWriteResult> WriteAsync(NpgsqlConnection conn, List<T> rows, WriteMode mode, CancellationToken cancellation)
    {
        if (rows.Count == 0) return default;
        var unique = Deduplicate(rows);
        var repeatedInBatch = rows.Count - unique.Count;
        if (mode == WriteMode.InsertsOnly)
        {
            await CopyAsync(conn, Table, unique, cancellation);
            return new TableWriteResult(unique.Count, repeatedInBatch);
        }

        var staging = Table + "_staging";
        await using (var create = new NpgsqlCommand(
            $"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {Table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS", conn))
        {
            await create.ExecuteNonQueryAsync(cancellation);
        }
        await CopyAsync(conn, staging, unique, cancellation);
        await using var insert = new NpgsqlCommand(
            $"INSERT INTO {Table} ({Columns}) SELECT {Columns} FROM {staging} ON CONFLICT (gpu_id, time) DO NOTHING", conn);
        var inserted = await insert.ExecuteNonQueryAsync(cancellation);
        return new TableWriteResult(inserted, repeatedInBatch + unique.Count - inserted);
    }

    private async Task CopyAsync(NpgsqlConnection conn, string table, List<T> rows, CancellationToken cancellation)
    {
        await using var importer = await conn.BeginBinaryImportAsync(
            $"COPY {table} ({Columns}) FROM STDIN (FORMAT BINARY)", cancellation);
        // Synchronous writes: values land in Npgsql's buffer and only a full buffer goes to the
        // socket, so per-value async machinery would cost more than it saves on a dedicated writer.
        foreach (var row in rows)
        {
            importer.StartRow();
            WriteRow(importer, row);
        }
        await importer.CompleteAsync(cancellation);
    }

    private List<T> Deduplicate(List<T> rows)
    {
        _seen.Clear();
        _unique.Clear();
        foreach (var row in rows)
            if (_seen.Add(KeyOf(row))) _unique.Add(row);
        return _unique;
    }
}
