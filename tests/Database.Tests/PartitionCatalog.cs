using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Database.Tests;

/// <summary>Reads the daily partitions of the partitioned mode, for the partition tests.</summary>
public static class PartitionCatalog
{
    public const string InsertUsageSql = """
        INSERT INTO gpu_usage (time, gpu_id, provider_id, utilization_pct, memory_used_mib, memory_total_mib, temperature_c, power_w)
        VALUES ($1, $2, 'prov-1', 50, 1024, 81920, 60, 300)
        """;

    public static async Task<DateTime> DatabaseUtcNowAsync(TestDatabase db) =>
        await db.ScalarAsync<DateTime>("SELECT now() AT TIME ZONE 'UTC'");

    public static IReadOnlyList<DateOnly> Days(DateOnly first, DateOnly last) =>
        Enumerable.Range(0, last.DayNumber - first.DayNumber + 1).Select(first.AddDays).ToList();

    public static async Task<IReadOnlyList<DateOnly>> DaysAsync(TestDatabase db, string parent)
    {
        await using var conn = db.Open();
        await using var cmd = new NpgsqlCommand("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::regclass ORDER BY c.relname
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = parent });
        await using var reader = await cmd.ExecuteReaderAsync();
        var days = new List<DateOnly>();
        while (await reader.ReadAsync())
        {
            var name = reader.GetString(0);
            Assert.StartsWith(parent + "_p", name);
            days.Add(DateOnly.ParseExact(name[^8..], "yyyyMMdd"));
        }
        return days;
    }
}
