using System.Text;
using Npgsql;
using NpgsqlTypes;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Health;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Allocations;

/// <summary>
/// Grants and releases GPU leases. Granting runs in one READ COMMITTED transaction:
/// <list type="number">
/// <item>lock up to N candidate GPU rows with FOR UPDATE SKIP LOCKED, so concurrent requests take
/// different GPUs instead of queueing behind each other;</item>
/// <item>re-check the locked GPUs for overlapping leases in a new statement, whose fresh snapshot
/// sees leases committed by a request that held the lock just before us, and drop those;</item>
/// <item>repeat until N are held or no candidate is left; then insert N rows, or roll back (409).</item>
/// </list>
/// Every grant locks the GPU row first, so a GPU held here cannot be leased by anyone else until
/// this transaction ends. The exclusion constraint allocations_no_double_booking stays the last
/// line of defence: its violation (23P01) answers 409 and nothing is granted.
/// </summary>
public sealed class AllocationStore(NpgsqlDataSource db, InventoryOptions options)
{
    public const string Ordering = "startsAt:desc";
    private const string RequestedRange = "tstzrange(now(), now() + @lease, '[)')";

    public async Task<AllocationView> AllocateAsync(AllocationRequest request, CancellationToken cancellation)
    {
        var requestId = Guid.NewGuid();
        await using (var conn = await db.OpenConnectionAsync(cancellation))
        await using (var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellation))
        {
            var held = new List<string>();
            var examined = new List<string>();
            while (held.Count < request.Count)
            {
                var locked = await LockCandidatesAsync(conn, tx, request, request.Count - held.Count, examined, cancellation);
                if (locked.Count == 0) break;
                examined.AddRange(locked);
                var takenMeanwhile = await LeasedAmongAsync(conn, tx, locked, request.Lease, cancellation);
                held.AddRange(locked.Where(id => !takenMeanwhile.Contains(id)));
            }
            if (held.Count < request.Count)
                throw ProblemException.Conflict("Not enough free GPUs",
                    $"Asked for {request.Count} GPU(s) matching {Describe(request)}; {held.Count} free and not being allocated right now. Nothing was allocated.");

            await using var insert = new NpgsqlCommand("""
                INSERT INTO allocations (request_id, gpu_id, tenant, starts_at, ends_at)
                SELECT @request, gpu, @tenant, now(), now() + @lease FROM unnest(@gpus) AS gpu
                """, conn, tx);
            insert.With("request", NpgsqlDbType.Uuid, requestId).With("tenant", NpgsqlDbType.Text, request.Tenant)
                .With("lease", NpgsqlDbType.Interval, request.Lease).With("gpus", NpgsqlDbType.Array | NpgsqlDbType.Text, held.ToArray());
            try
            {
                await insert.ExecuteNonQueryAsync(cancellation);
                await tx.CommitAsync(cancellation);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrors.ExclusionViolation)
            {
                throw PostgresErrors.Describe(ex)!;
            }
        }
        return await GetAsync(requestId, cancellation);
    }

    private async Task<List<string>> LockCandidatesAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, AllocationRequest request, int need, List<string> examined, CancellationToken cancellation)
    {
        var sql = new StringBuilder($"""
            SELECT g.id FROM gpus g JOIN gpu_state s ON s.gpu_id = g.id
            WHERE g.status = 'active'
              AND ({GpuStatusSql.Status}) = '{GpuStatusSql.Online}'
              AND NOT {LeaseSql.OverlapsOn("g.id", RequestedRange)}
              AND NOT (g.id = ANY(@examined))
            """);
        await using var cmd = new NpgsqlCommand { Connection = conn, Transaction = tx };
        cmd.With("offline_after", NpgsqlDbType.Interval, options.OfflineAfter).With("lease", NpgsqlDbType.Interval, request.Lease)
            .With("examined", NpgsqlDbType.Array | NpgsqlDbType.Text, examined.ToArray()).With("need", NpgsqlDbType.Integer, need);
        if (request.Model is { } model) { sql.Append(" AND g.model = @model"); cmd.With("model", NpgsqlDbType.Text, model); }
        if (request.MinMemoryMib is { } memory) { sql.Append(" AND g.memory_mib >= @memory"); cmd.With("memory", NpgsqlDbType.Integer, memory); }
        if (request.Region is { } region) { sql.Append(" AND g.region = @region"); cmd.With("region", NpgsqlDbType.Text, region); }
        if (request.ProviderId is { } provider) { sql.Append(" AND g.provider_id = @provider"); cmd.With("provider", NpgsqlDbType.Text, provider); }
        if (request.Capabilities.Count > 0)
        {
            sql.Append(" AND jsonb_exists_all(g.capabilities, @capabilities)");
            cmd.With("capabilities", NpgsqlDbType.Array | NpgsqlDbType.Text, request.Capabilities.ToArray());
        }
        // Cheapest first; id makes the choice deterministic.
        sql.Append(" ORDER BY g.price_per_hour, g.id LIMIT @need FOR UPDATE OF g SKIP LOCKED");
        cmd.CommandText = sql.ToString();

        var ids = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) ids.Add(reader.GetString(0));
        return ids;
    }

    private static async Task<HashSet<string>> LeasedAmongAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, List<string> gpus, TimeSpan lease, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand(
            $"SELECT g.id FROM unnest(@gpus) AS g(id) WHERE {LeaseSql.OverlapsOn("g.id", RequestedRange)}", conn, tx);
        cmd.With("gpus", NpgsqlDbType.Array | NpgsqlDbType.Text, gpus.ToArray()).With("lease", NpgsqlDbType.Interval, lease);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation)) taken.Add(reader.GetString(0));
        return taken;
    }

    /// <summary>Ends the lease now. Releasing again, or after expiry, changes nothing and answers the same.</summary>
    public async Task<AllocationView> ReleaseAsync(Guid requestId, CancellationToken cancellation)
    {
        await using (var cmd = db.CreateCommand("""
            UPDATE allocations SET released_at = GREATEST(now(), starts_at)
            WHERE request_id = @request AND released_at IS NULL AND ends_at > now()
            """))
        {
            cmd.With("request", NpgsqlDbType.Uuid, requestId);
            await cmd.ExecuteNonQueryAsync(cancellation);
        }
        return await GetAsync(requestId, cancellation);
    }

    public async Task<AllocationView> GetAsync(Guid requestId, CancellationToken cancellation) =>
        (await ReadAsync([requestId], cancellation)).SingleOrDefault()
        ?? throw ProblemException.NotFound($"Allocation '{requestId}' does not exist.");

    /// <summary>Allocations newest first, keyset-paginated by (starts_at, id); all rows of one request share starts_at.</summary>
    public async Task<Page<AllocationView>> ListAsync(string? tenant, string? state, int limit, PageCursor? after, CancellationToken cancellation)
    {
        DateTime? afterTime = after?.TimeValue();
        Guid? afterId = after is null ? null : Guid.TryParse(after.Id, out var id) ? id : throw PageCursor.Invalid();
        await using var cmd = db.CreateCommand($"""
            SELECT a.request_id FROM allocations a
            WHERE (@tenant IS NULL OR a.tenant = @tenant)
              AND (@state IS NULL OR ({LeaseSql.State("a")}) = @state)
              AND (@after_time IS NULL OR (a.starts_at, a.request_id) < (@after_time, @after_id))
            GROUP BY a.starts_at, a.request_id
            ORDER BY a.starts_at DESC, a.request_id DESC
            LIMIT @limit
            """);
        cmd.With("tenant", NpgsqlDbType.Text, tenant).With("state", NpgsqlDbType.Text, state)
            .With("after_time", NpgsqlDbType.TimestampTz, afterTime).With("after_id", NpgsqlDbType.Uuid, afterId)
            .With("limit", NpgsqlDbType.Integer, limit + 1);
        var ids = new List<Guid>();
        await using (var reader = await cmd.ExecuteReaderAsync(cancellation))
            while (await reader.ReadAsync(cancellation)) ids.Add(reader.GetGuid(0));

        var hasMore = ids.Count > limit;
        var items = await ReadAsync(ids.Take(limit).ToList(), cancellation);
        var next = hasMore && items.Count > 0
            ? new PageCursor(Ordering, PageCursor.FormatTime(items[^1].StartsAt), items[^1].Id.ToString()).Encode()
            : null;
        return new Page<AllocationView>(items, next);
    }

    /// <summary>The requests <paramref name="requestIds"/>, in that order.</summary>
    private async Task<List<AllocationView>> ReadAsync(IReadOnlyList<Guid> requestIds, CancellationToken cancellation)
    {
        if (requestIds.Count == 0) return [];
        await using var cmd = db.CreateCommand($"""
            SELECT a.request_id, a.tenant, {LeaseSql.State("a")}, a.starts_at, a.ends_at, a.released_at,
                   a.gpu_id, a.id, g.provider_id, g.model, g.region, g.memory_mib
            FROM allocations a JOIN gpus g ON g.id = a.gpu_id
            WHERE a.request_id = ANY(@requests)
            ORDER BY a.request_id, a.gpu_id
            """);
        cmd.With("requests", NpgsqlDbType.Array | NpgsqlDbType.Uuid, requestIds.ToArray());
        var rows = new Dictionary<Guid, (AllocationView Head, List<AllocatedGpu> Gpus)>();
        await using (var r = await cmd.ExecuteReaderAsync(cancellation))
        {
            while (await r.ReadAsync(cancellation))
            {
                var id = r.GetGuid(0);
                if (!rows.TryGetValue(id, out var entry))
                {
                    entry = (new AllocationView(id, r.GetString(1), r.GetString(2), r.GetFieldValue<DateTime>(3), r.GetFieldValue<DateTime>(4),
                        r.IsDBNull(5) ? null : r.GetFieldValue<DateTime>(5), []), []);
                    rows[id] = entry;
                }
                entry.Gpus.Add(new AllocatedGpu(r.GetString(6), r.GetGuid(7), r.GetString(8), r.GetString(9), r.GetString(10), r.GetInt32(11)));
            }
        }
        return requestIds.Where(rows.ContainsKey).Select(id => rows[id].Head with { Gpus = rows[id].Gpus }).ToList();
    }

    private static string Describe(AllocationRequest r)
    {
        var parts = new List<string>();
        if (r.Model is not null) parts.Add($"model={r.Model}");
        if (r.MinMemoryMib is not null) parts.Add($"minMemoryMib={r.MinMemoryMib}");
        if (r.Region is not null) parts.Add($"region={r.Region}");
        if (r.ProviderId is not null) parts.Add($"providerId={r.ProviderId}");
        if (r.Capabilities.Count > 0) parts.Add($"capabilities={string.Join(',', r.Capabilities)}");
        return parts.Count == 0 ? "any constraints" : string.Join(", ", parts);
    }
}
