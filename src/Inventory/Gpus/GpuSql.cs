using System.Text.Json;
using Npgsql;
using Pipeline.Inventory.Allocations;
using Pipeline.Inventory.Health;

namespace Pipeline.Inventory.Gpus;

/// <summary>
/// The GPU view every read uses: inventory row, heartbeat state, derived status and lease flag.
/// Columns are read by position in <see cref="Read"/>; keep the two in step.
/// </summary>
public static class GpuSql
{
    public static readonly string View = $"""
        SELECT g.id, g.provider_id, g.model, g.memory_mib, g.region, g.price_per_hour, g.capabilities,
               g.status AS admin_status, g.created_at, g.updated_at, g.version,
               s.last_seen, s.reported_status,
               {GpuStatusSql.Status} AS status,
               {LeaseSql.ActiveOn("g.id")} AS allocated
        FROM gpus g LEFT JOIN gpu_state s ON s.gpu_id = g.id
        """;

    public const string Columns =
        "v.id, v.provider_id, v.model, v.memory_mib, v.region, v.price_per_hour, v.capabilities, v.admin_status, " +
        "v.created_at, v.updated_at, v.version, v.last_seen, v.reported_status, v.status, v.allocated";

    /// <summary>Allocatable right now; the allocation query applies the same conditions under row locks.</summary>
    public const string Available = "(v.status = 'online' AND v.admin_status = 'active' AND NOT v.allocated)";

    public static GpuView Read(NpgsqlDataReader r)
    {
        using var capabilities = JsonDocument.Parse(r.GetString(6));
        var status = r.GetString(13);
        var adminStatus = r.GetString(7);
        var allocated = r.GetBoolean(14);
        return new GpuView(
            Id: r.GetString(0),
            ProviderId: r.GetString(1),
            Model: r.GetString(2),
            MemoryMib: r.GetInt32(3),
            Region: r.GetString(4),
            PricePerHour: r.GetDecimal(5),
            Capabilities: capabilities.RootElement.Clone(),
            AdminStatus: adminStatus,
            Status: status,
            ReportedStatus: r.IsDBNull(12) ? null : r.GetString(12),
            LastSeen: r.IsDBNull(11) ? null : r.GetFieldValue<DateTime>(11),
            Allocated: allocated,
            Available: status == GpuStatusSql.Online && adminStatus == "active" && !allocated,
            CreatedAt: r.GetFieldValue<DateTime>(8),
            UpdatedAt: r.GetFieldValue<DateTime>(9),
            Version: r.GetInt64(10));
    }
}
