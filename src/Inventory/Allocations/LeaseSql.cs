namespace Pipeline.Inventory.Allocations;

/// <summary>
/// What "leased" means, written once. A lease occupies [starts_at, LEAST(ends_at, released_at)):
/// exactly the range the exclusion constraint allocations_no_double_booking compares, so the
/// code's idea of a free GPU and the database's last line of defence agree, and the constraint's
/// GiST index serves these lookups. An expired lease needs no clean-up: its range simply ends.
/// </summary>
public static class LeaseSql
{
    /// <summary>The occupied time range of allocation row <paramref name="alias"/> (same expression as the constraint).</summary>
    public static string Range(string alias) =>
        $"tstzrange({alias}.starts_at, LEAST({alias}.ends_at, COALESCE({alias}.released_at, {alias}.ends_at)), '[)')";

    /// <summary>True when the GPU <paramref name="gpuIdExpression"/> is in a lease at this instant (starts_at &lt;= now() &lt; end).</summary>
    public static string ActiveOn(string gpuIdExpression) =>
        $"EXISTS (SELECT 1 FROM allocations lease WHERE lease.gpu_id = {gpuIdExpression} AND {Range("lease")} @> now())";

    /// <summary>True when some lease of the GPU overlaps <paramref name="rangeExpression"/> (used when granting).</summary>
    public static string OverlapsOn(string gpuIdExpression, string rangeExpression) =>
        $"EXISTS (SELECT 1 FROM allocations lease WHERE lease.gpu_id = {gpuIdExpression} AND {Range("lease")} && {rangeExpression})";

    /// <summary>State of allocation row <paramref name="alias"/>: scheduled, active, released (ended early) or expired.</summary>
    public static readonly IReadOnlyList<string> States = ["scheduled", "active", "released", "expired"];

    public static string State(string alias) => $"""
        CASE WHEN {alias}.released_at IS NOT NULL AND {alias}.released_at < {alias}.ends_at THEN 'released'
             WHEN now() >= {alias}.ends_at THEN 'expired'
             WHEN now() < {alias}.starts_at THEN 'scheduled'
             ELSE 'active' END
        """;
}
