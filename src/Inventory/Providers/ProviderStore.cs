using Npgsql;
using NpgsqlTypes;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Providers;

/// <summary>Reads and writes the providers table; lists are keyset-paginated by id.</summary>
public sealed class ProviderStore(NpgsqlDataSource db)
{
    private const string Select = """
        SELECT p.id, p.name, p.contact, (SELECT count(*)::int FROM gpus g WHERE g.provider_id = p.id),
               p.created_at, p.updated_at, p.version
        FROM providers p
        """;

    public async Task<ProviderView> GetAsync(string id, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand($"{Select} WHERE p.id = @id");
        cmd.With("id", NpgsqlDbType.Text, id);
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? Read(reader) : throw ProblemException.NotFound($"Provider '{id}' does not exist.");
    }

    public async Task<Page<ProviderView>> ListAsync(int limit, PageCursor? after, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand($"{Select} WHERE (@after IS NULL OR p.id > @after) ORDER BY p.id LIMIT @limit");
        cmd.With("after", NpgsqlDbType.Text, after?.Id).With("limit", NpgsqlDbType.Integer, limit + 1);
        var items = new List<ProviderView>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            if (items.Count == limit) return new Page<ProviderView>(items, new PageCursor(Ordering, items[^1].Id, items[^1].Id).Encode());
            items.Add(Read(reader));
        }
        return new Page<ProviderView>(items, null);
    }

    public const string Ordering = "id:asc";

    public async Task<ProviderView> CreateAsync(string id, string name, string? contact, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("INSERT INTO providers (id, name, contact) VALUES (@id, @name, @contact)");
        cmd.With("id", NpgsqlDbType.Text, id).With("name", NpgsqlDbType.Text, name).With("contact", NpgsqlDbType.Text, contact);
        try
        {
            await cmd.ExecuteNonQueryAsync(cancellation);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrors.UniqueViolation)
        {
            throw ProblemException.Conflict("Provider already exists", $"Provider '{id}' already exists.");
        }
        return await GetAsync(id, cancellation);
    }

    public async Task<ProviderView> UpdateAsync(string id, string name, string? contact, long? expectedVersion, CancellationToken cancellation)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE providers SET name = @name, contact = @contact, version = version + 1, updated_at = now()
            WHERE id = @id AND (@expected IS NULL OR version = @expected)
            """);
        cmd.With("id", NpgsqlDbType.Text, id).With("name", NpgsqlDbType.Text, name).With("contact", NpgsqlDbType.Text, contact)
            .With("expected", NpgsqlDbType.Bigint, expectedVersion);
        if (await cmd.ExecuteNonQueryAsync(cancellation) == 0)
            await VersionedRows.ThrowMissingOrStaleAsync(db, "providers", "Provider", id, expectedVersion, cancellation);
        return await GetAsync(id, cancellation);
    }

    public Task DeleteAsync(string id, long? expectedVersion, CancellationToken cancellation) =>
        VersionedRows.DeleteAsync(db, "providers", "Provider", id, expectedVersion,
            ProblemException.Conflict("Provider still has GPUs", $"Provider '{id}' still has GPUs; delete or move them first."),
            cancellation);

    private static ProviderView Read(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt32(3),
        r.GetFieldValue<DateTime>(4), r.GetFieldValue<DateTime>(5), r.GetInt64(6));
}
