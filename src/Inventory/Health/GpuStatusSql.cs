namespace Pipeline.Inventory.Health;

/// <summary>
/// How a GPU's operational status is derived, written once for listing, showing and allocating.
/// Needs alias g (gpus), s (gpu_state, LEFT JOINed) and the interval parameter @offline_after.
/// <list type="bullet">
/// <item>offline: no heartbeat state, or the last heartbeat is older than Inventory:OfflineAfter;</item>
/// <item>degraded: heartbeats arrive but the agent reports degraded/unhealthy, or the latest result of some health check failed;</item>
/// <item>online: otherwise. Only online GPUs are ever allocated.</item>
/// </list>
/// </summary>
public static class GpuStatusSql
{
    public const string Online = "online";
    public const string Offline = "offline";
    public const string Degraded = "degraded";
    public static readonly IReadOnlyList<string> All = [Online, Offline, Degraded];

    /// <summary>True when the newest result of at least one named check of GPU <paramref name="gpuIdExpression"/> failed.</summary>
    public static string FailingCheck(string gpuIdExpression) => $"""
        EXISTS (SELECT 1 FROM gpu_health_checks hc
                WHERE hc.gpu_id = {gpuIdExpression} AND NOT hc.passed
                  AND NOT EXISTS (SELECT 1 FROM gpu_health_checks newer
                                  WHERE newer.gpu_id = hc.gpu_id AND newer.check_name = hc.check_name
                                    AND (newer.checked_at, newer.id) > (hc.checked_at, hc.id)))
        """;

    public static readonly string Status = $"""
        CASE WHEN s.last_seen IS NULL OR s.last_seen < now() - @offline_after THEN '{Offline}'
             WHEN s.reported_status <> 'healthy' OR {FailingCheck("g.id")} THEN '{Degraded}'
             ELSE '{Online}' END
        """;
}
