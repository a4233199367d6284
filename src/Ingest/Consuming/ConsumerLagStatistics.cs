using System.Text.Json;

namespace Pipeline.Ingest.Consuming;

/// <summary>One partition's lag as librdkafka's statistics report it.</summary>
public readonly record struct PartitionLag(string Topic, int Partition, long Lag);

/// <summary>
/// Reads consumer lag per partition out of librdkafka's statistics JSON (statistics.interval.ms).
/// Uses consumer_lag_stored (high watermark minus the offset stored after each database commit),
/// which is current; consumer_lag trails it by the auto-commit interval.
/// </summary>
public static class ConsumerLagStatistics
{
    public static List<PartitionLag> Parse(string json)
    {
        var result = new List<PartitionLag>();
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("topics", out var topics) || topics.ValueKind != JsonValueKind.Object) return result;
        foreach (var topic in topics.EnumerateObject())
        {
            if (!topic.Value.TryGetProperty("partitions", out var partitions) || partitions.ValueKind != JsonValueKind.Object) continue;
            foreach (var p in partitions.EnumerateObject())
            {
                var stats = p.Value;
                if (!stats.TryGetProperty("partition", out var idElement) || !idElement.TryGetInt32(out var id) || id < 0) continue;
                // Only partitions this consumer fetches have meaningful lag.
                if (stats.TryGetProperty("fetch_state", out var state) && state.GetString() is "none" or null) continue;
                var lag = Read(stats, "consumer_lag_stored");
                if (lag < 0) lag = Read(stats, "consumer_lag");
                if (lag >= 0) result.Add(new PartitionLag(topic.Name, id, lag));
            }
        }
        return result;
    }

    private static long Read(JsonElement stats, string name) =>
        stats.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : -1;
}
