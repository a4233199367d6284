using System.Text;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Gpus;

/// <summary>Reads and writes the gpus table. Every statement is parameterized; see <see cref="GpuSortKey"/> for ORDER BY.</summary>
public sealed class GpuStore(NpgsqlDataSource db, InventoryOptions options)
{
    public async Task<GpuView?> FindAsync(string id, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand($"SELECT {GpuSql.Columns} FROM ({GpuSql.View}) v WHERE v.id = @id");
        cmd.With("id", NpgsqlDbType.Text, id).With("offline_after", NpgsqlDbType.Interval, options.OfflineAfter);
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? GpuSql.Read(reader) : null;
    }

    public async Task<GpuView> GetAsync(string id, CancellationToken cancellation) =>
        await FindAsync(id, cancellation) ?? throw ProblemException.NotFound($"GPU '{id}' does not exist.");

    public async Task<Page<GpuView>> ListAsync(GpuListRequest request, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand();
        cmd.With("offline_after", NpgsqlDbType.Interval, options.OfflineAfter);
        var where = new List<string>();
        if (request.Provider is { } provider) { where.Add("v.provider_id = @provider"); cmd.With("provider", NpgsqlDbType.Text, provider); }
        if (request.Model is { } model) { where.Add("v.model = @model"); cmd.With("model", NpgsqlDbType.Text, model); }
        if (request.MinMemoryMib is { } memory) { where.Add("v.memory_mib >= @min_memory"); cmd.With("min_memory", NpgsqlDbType.Integer, memory); }
        if (request.Region is { } region) { where.Add("v.region = @region"); cmd.With("region", NpgsqlDbType.Text, region); }
        if (request.AdminStatus is { } admin) { where.Add("v.admin_status = @admin_status"); cmd.With("admin_status", NpgsqlDbType.Text, admin); }
        if (request.Status is { } status) { where.Add("v.status = @status"); cmd.With("status", NpgsqlDbType.Text, status); }
        if (request.Available is { } available) { where.Add($"{GpuSql.Available} = @available"); cmd.With("available", NpgsqlDbType.Boolean, available); }
        for (var i = 0; i < request.Capabilities.Count; i++)
        {
            var (capabilityKey, value) = request.Capabilities[i];
            cmd.With($"cap_key{i}", NpgsqlDbType.Text, capabilityKey);
            if (value is null) where.Add($"jsonb_exists(v.capabilities, @cap_key{i})");
            else { where.Add($"(v.capabilities ->> @cap_key{i}) = @cap_value{i}"); cmd.With($"cap_value{i}", NpgsqlDbType.Text, value); }
        }

        var key = request.SortKey;
        var direction = request.Descending ? "DESC" : "ASC";
        if (request.After is { } after)
        {
            // Row comparison in the page's direction: strictly after the last row served.
            where.Add($"({key.SqlExpression}, v.id) {(request.Descending ? "<" : ">")} (@after_value, @after_id)");
            cmd.With("after_value", key.Type, key.Parse(after.Value)).With("after_id", NpgsqlDbType.Text, after.Id);
        }

        var sql = new StringBuilder($"SELECT {GpuSql.Columns}, {key.SqlExpression} AS sort_value FROM ({GpuSql.View}) v");
        if (where.Count > 0) sql.Append(" WHERE ").AppendJoin(" AND ", where);
        sql.Append($" ORDER BY {key.SqlExpression} {direction}, v.id {direction} LIMIT @limit");
        cmd.With("limit", NpgsqlDbType.Integer, request.Limit + 1);
        cmd.CommandText = sql.ToString();

        var items = new List<GpuView>();
        object? lastSortValue = null;
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            if (items.Count == request.Limit)
                return new Page<GpuView>(items, new PageCursor(request.Ordering, key.Format(lastSortValue!), items[^1].Id).Encode());
            items.Add(GpuSql.Read(reader));
            lastSortValue = reader.GetValue(15);
        }
        return new Page<GpuView>(items, null);
    }

    /// <summary>Inserts all GPUs or none, in one transaction.</summary>
    public async Task<IReadOnlyList<GpuView>> CreateAsync(IReadOnlyList<GpuFields> gpus, bool bulk, CancellationToken cancellation)
    {
        await using var conn = await db.OpenConnectionAsync(cancellation);
        await using (var tx = await conn.BeginTransactionAsync(cancellation))
        {
            var ids = gpus.Select(g => g.Id).ToArray();
            var providers = gpus.Select(g => g.ProviderId).ToArray();

            await using (var check = new NpgsqlCommand(
                "SELECT p FROM unnest(@providers) p WHERE NOT EXISTS (SELECT 1 FROM providers WHERE id = p) LIMIT 1", conn, tx))
            {
                check.With("providers", NpgsqlDbType.Array | NpgsqlDbType.Text, providers);
                if (await check.ExecuteScalarAsync(cancellation) is string missing)
                    throw ProblemException.Invalid(Field(bulk, Array.IndexOf(providers, missing), "providerId"), $"Provider '{missing}' does not exist.");
            }
            await using (var check = new NpgsqlCommand("SELECT id FROM gpus WHERE id = ANY(@ids) LIMIT 1", conn, tx))
            {
                check.With("ids", NpgsqlDbType.Array | NpgsqlDbType.Text, ids);
                if (await check.ExecuteScalarAsync(cancellation) is string existing)
                    throw ProblemException.Conflict("GPU already exists", $"GPU '{existing}' already exists.");
            }

            await using (var insert = new NpgsqlCommand("""
                INSERT INTO gpus (id, provider_id, model, memory_mib, region, price_per_hour, capabilities, status)
                SELECT * FROM unnest(@ids, @providers, @models, @memory, @regions, @prices, @capabilities, @statuses)
                """, conn, tx))
            {
                insert.With("ids", NpgsqlDbType.Array | NpgsqlDbType.Text, ids)
                    .With("providers", NpgsqlDbType.Array | NpgsqlDbType.Text, providers)
                    .With("models", NpgsqlDbType.Array | NpgsqlDbType.Text, gpus.Select(g => g.Model).ToArray())
                    .With("memory", NpgsqlDbType.Array | NpgsqlDbType.Integer, gpus.Select(g => g.MemoryMib).ToArray())
                    .With("regions", NpgsqlDbType.Array | NpgsqlDbType.Text, gpus.Select(g => g.Region).ToArray())
                    .With("prices", NpgsqlDbType.Array | NpgsqlDbType.Numeric, gpus.Select(g => g.PricePerHour).ToArray())
                    .With("capabilities", NpgsqlDbType.Array | NpgsqlDbType.Jsonb, gpus.Select(g => g.CapabilitiesJson).ToArray())
                    .With("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, gpus.Select(g => g.AdminStatus).ToArray());
                await insert.ExecuteNonQueryAsync(cancellation);
            }
            await tx.CommitAsync(cancellation);
        }

        await using var select = new NpgsqlCommand(
            $"SELECT {GpuSql.Columns} FROM ({GpuSql.View}) v JOIN unnest(@ids) WITH ORDINALITY AS wanted(id, n) ON wanted.id = v.id ORDER BY wanted.n", conn);
        select.With("ids", NpgsqlDbType.Array | NpgsqlDbType.Text, gpus.Select(g => g.Id).ToArray())
            .With("offline_after", NpgsqlDbType.Interval, options.OfflineAfter);
        var created = new List<GpuView>(gpus.Count);
        await using var reader = await select.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) created.Add(GpuSql.Read(reader));
        return created;
    }

    /// <summary>Replaces the editable fields; with <paramref name="expectedVersion"/> only if the row is still at that version.</summary>
    public async Task<GpuView> UpdateAsync(GpuFields gpu, long? expectedVersion, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE gpus SET provider_id = @provider, model = @model, memory_mib = @memory, region = @region,
                            price_per_hour = @price, capabilities = @capabilities, status = @status,
                            version = version + 1, updated_at = now()
            WHERE id = @id AND (@expected IS NULL OR version = @expected)
            """);
        cmd.With("id", NpgsqlDbType.Text, gpu.Id)
            .With("provider", NpgsqlDbType.Text, gpu.ProviderId)
            .With("model", NpgsqlDbType.Text, gpu.Model)
            .With("memory", NpgsqlDbType.Integer, gpu.MemoryMib)
            .With("region", NpgsqlDbType.Text, gpu.Region)
            .With("price", NpgsqlDbType.Numeric, gpu.PricePerHour)
            .With("capabilities", NpgsqlDbType.Jsonb, gpu.CapabilitiesJson)
            .With("status", NpgsqlDbType.Text, gpu.AdminStatus)
            .With("expected", NpgsqlDbType.Bigint, expectedVersion);
        int updated;
        try
        {
            updated = await cmd.ExecuteNonQueryAsync(cancellation);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrors.ForeignKeyViolation)
        {
            throw ProblemException.Invalid("providerId", $"Provider '{gpu.ProviderId}' does not exist.");
        }
        if (updated == 0) await VersionedRows.ThrowMissingOrStaleAsync(db, "gpus", "GPU", gpu.Id, expectedVersion, cancellation);
        return await GetAsync(gpu.Id, cancellation);
    }

    public Task DeleteAsync(string id, long? expectedVersion, CancellationToken cancellation) =>
        VersionedRows.DeleteAsync(db, "gpus", "GPU", id, expectedVersion,
            ProblemException.Conflict("GPU has allocations",
                $"GPU '{id}' appears in allocation records, which are kept as history; set its adminStatus to 'retired' instead."),
            cancellation);

    private static string Field(bool bulk, int index, string name) => bulk ? $"[{index}].{name}" : name;
}
