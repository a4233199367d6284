using Npgsql;
using NpgsqlTypes;

namespace Pipeline.Ingest.Quarantine;

/// <summary>
/// Inserts a batch's quarantine entries inside the batch transaction, so a rejected message is
/// recorded exactly when its offset moves past it. A replayed entry (same topic, partition,
/// offset, element) is ignored by the unique index rather than failing the batch.
/// </summary>
public static class QuarantineWriter
{
    public static async Task<int> InsertAsync(NpgsqlConnection conn, List<QuarantineEntry> entries, CancellationToken cancellation)
    {
        if (entries.Count == 0) return 0;
        var n = entries.Count;
        var topics = new string[n];
        var partitions = new int[n];
        var offsets = new long[n];
        var elements = new int?[n];
        var keys = new byte[]?[n];
        var values = new byte[]?[n];
        var reasons = new string[n];
        var details = new string[n];
        for (var i = 0; i < n; i++)
        {
            var e = entries[i];
            (topics[i], partitions[i], offsets[i], elements[i]) = (e.Topic, e.Partition, e.Offset, e.ElementIndex);
            (keys[i], values[i], reasons[i], details[i]) = (e.Key, e.RawValue, e.Reason, e.Detail);
        }

        await using var cmd = new NpgsqlCommand(
            """
            INSERT INTO quarantine (topic, partition, "offset", element_index, message_key, raw_value, reason, detail)
            SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::int[], $5::bytea[], $6::bytea[], $7::text[], $8::text[])
            ON CONFLICT DO NOTHING
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = topics, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = partitions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = offsets, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new NpgsqlParameter<int?[]> { TypedValue = elements, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]?[]> { TypedValue = keys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        cmd.Parameters.Add(new NpgsqlParameter<byte[]?[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = reasons, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = details, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return await cmd.ExecuteNonQueryAsync(cancellation);
    }
}
