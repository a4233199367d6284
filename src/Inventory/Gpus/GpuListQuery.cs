using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using NpgsqlTypes;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Health;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Gpus;

/// <summary>Query string of GET /gpus. All values arrive as text and are checked by <see cref="Parse"/>.</summary>
public sealed class GpuListQuery
{
    [FromQuery(Name = "provider")] public string? Provider { get; init; }
    [FromQuery(Name = "model")] public string? Model { get; init; }
    [FromQuery(Name = "minMemoryMib")] public string? MinMemoryMib { get; init; }
    [FromQuery(Name = "region")] public string? Region { get; init; }
    [FromQuery(Name = "adminStatus")] public string? AdminStatus { get; init; }
    [FromQuery(Name = "status")] public string? Status { get; init; }
    [FromQuery(Name = "available")] public string? Available { get; init; }

    /// <summary>Repeatable: "key" requires the key in capabilities, "key=value" requires that value (compared as text).</summary>
    [FromQuery(Name = "capability")] public string[]? Capability { get; init; }

    [FromQuery(Name = "sort")] public string? Sort { get; init; }
    [FromQuery(Name = "order")] public string? Order { get; init; }
    [FromQuery(Name = "limit")] public string? Limit { get; init; }
    [FromQuery(Name = "cursor")] public string? Cursor { get; init; }

    private const int MaxCapabilityFilters = 16;

    public GpuListRequest Parse(InventoryOptions options)
    {
        var capabilities = new List<CapabilityFilter>();
        foreach (var raw in Capability ?? [])
        {
            if (capabilities.Count == MaxCapabilityFilters)
                throw ProblemException.Invalid("capability", $"At most {MaxCapabilityFilters} capability filters are allowed.");
            var eq = raw.IndexOf('=');
            capabilities.Add(eq < 0
                ? new CapabilityFilter(Input.Text(raw, "capability", 128), null)
                : new CapabilityFilter(Input.Text(raw[..eq], "capability", 128), raw[(eq + 1)..]));
        }

        var sortName = string.IsNullOrEmpty(Sort) ? "id" : Sort;
        if (!GpuSortKey.All.TryGetValue(sortName, out var sortKey))
            throw ProblemException.Invalid("sort", $"'sort' must be one of: {string.Join(", ", GpuSortKey.All.Keys)}.");
        var descending = Input.QueryOneOf(Order, "order", ["asc", "desc"]) == "desc";
        var ordering = $"{sortKey.Name}:{(descending ? "desc" : "asc")}";

        return new GpuListRequest(
            Provider: string.IsNullOrEmpty(Provider) ? null : Provider,
            Model: string.IsNullOrEmpty(Model) ? null : Model,
            MinMemoryMib: Input.OptionalQueryInt(MinMemoryMib, "minMemoryMib", 0, int.MaxValue),
            Region: string.IsNullOrEmpty(Region) ? null : Region,
            AdminStatus: Input.QueryOneOf(AdminStatus, "adminStatus", GpuFields.AdminStatuses),
            Status: Input.QueryOneOf(Status, "status", GpuStatusSql.All),
            Available: Input.QueryBool(Available, "available"),
            Capabilities: capabilities,
            SortKey: sortKey,
            Descending: descending,
            Limit: Input.PageSize(Limit, options),
            After: PageCursor.Decode(Cursor, ordering),
            Ordering: ordering);
    }
}

public sealed record CapabilityFilter(string Key, string? Value);

public sealed record GpuListRequest(
    string? Provider,
    string? Model,
    int? MinMemoryMib,
    string? Region,
    string? AdminStatus,
    string? Status,
    bool? Available,
    IReadOnlyList<CapabilityFilter> Capabilities,
    GpuSortKey SortKey,
    bool Descending,
    int Limit,
    PageCursor? After,
    string Ordering);

/// <summary>
/// The fields GET /gpus can sort by, each mapped to a fixed SQL expression over the view alias v.
/// Only these expressions ever reach the SQL text; the client's sort word only selects one.
/// </summary>
public sealed record GpuSortKey(string Name, string SqlExpression, NpgsqlDbType Type)
{
    public static readonly IReadOnlyDictionary<string, GpuSortKey> All = new[]
    {
        new GpuSortKey("id", "v.id", NpgsqlDbType.Text),
        new GpuSortKey("providerId", "v.provider_id", NpgsqlDbType.Text),
        new GpuSortKey("model", "v.model", NpgsqlDbType.Text),
        new GpuSortKey("memoryMib", "v.memory_mib", NpgsqlDbType.Integer),
        new GpuSortKey("region", "v.region", NpgsqlDbType.Text),
        new GpuSortKey("pricePerHour", "v.price_per_hour", NpgsqlDbType.Numeric),
        new GpuSortKey("adminStatus", "v.admin_status", NpgsqlDbType.Text),
        new GpuSortKey("status", "v.status", NpgsqlDbType.Text),
        // Never-seen GPUs sort as if last seen at the Unix epoch (first when ascending): a NULL would
        // make the keyset comparison NULL, and a finite sentinel round-trips through the cursor exactly.
        new GpuSortKey("lastSeen", "COALESCE(v.last_seen, 'epoch'::timestamptz)", NpgsqlDbType.TimestampTz),
        new GpuSortKey("createdAt", "v.created_at", NpgsqlDbType.TimestampTz),
        new GpuSortKey("updatedAt", "v.updated_at", NpgsqlDbType.TimestampTz),
    }.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Text form of a sort value read from the database, for the cursor.</summary>
    public string Format(object value) => value switch
    {
        DateTime t => PageCursor.FormatTime(t),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>The cursor's text form back as a typed parameter value; a tampered value is a 400.</summary>
    public object Parse(string text)
    {
        object? value = Type switch
        {
            NpgsqlDbType.Integer => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null,
            NpgsqlDbType.Numeric => decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : null,
            NpgsqlDbType.TimestampTz => DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t)
                && t.Kind == DateTimeKind.Utc ? t : null,
            _ => text,
        };
        return value ?? throw PageCursor.Invalid();
    }
}
