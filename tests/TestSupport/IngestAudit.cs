using Npgsql;

namespace Pipeline.TestSupport;

/// <summary>
/// Compares what the database holds with what a <see cref="SampleLoad"/> says a correct ingest
/// must have written. Rows cannot be duplicated (unique (gpu_id, time) indexes), so double
/// processing shows as stored offsets past or behind the partition end, and loss as missing rows,
/// different sums or offsets short of the end.
/// </summary>
public static class IngestAudit
{
    /// <summary>Every way the database differs from <paramref name="expected"/>; empty when it matches exactly.</summary>
    public static async Task<IReadOnlyList<string>> DifferencesAsync(string connectionString, ExpectedLanding expected, CancellationToken cancellation = default)
    {
        await using var conn = new NpgsqlConnection(Unpooled(connectionString));
        await conn.OpenAsync(cancellation);
        var differences = new List<string>();

        var usage = await ReadUsageAsync(conn, cancellation);
        CompareUsage(expected.Usage, usage, differences);

        var (heartbeatRows, uptimeSum) = await ReadPairAsync(conn, "SELECT count(*), coalesce(sum(uptime_s), 0)::bigint FROM gpu_heartbeat", cancellation);
        CompareCount("gpu_heartbeat rows", expected.HeartbeatRows, heartbeatRows, differences);
        if (heartbeatRows == expected.HeartbeatRows && uptimeSum != expected.HeartbeatUptimeSum)
            differences.Add($"gpu_heartbeat: sum(uptime_s) {uptimeSum}, expected {expected.HeartbeatUptimeSum}: same row count, different rows");

        var quarantined = await ReadQuarantineAsync(conn, [expected.UsageTopic, expected.HeartbeatTopic], cancellation);
        CompareCount("quarantine rows", expected.QuarantineRows, quarantined, differences);

        await CompareGpuStateAsync(conn, expected, differences, cancellation);
        await CompareOffsetsAsync(conn, expected, differences, cancellation);
        return differences;
    }

    /// <summary>
    /// Polls until the database matches <paramref name="expected"/> or <paramref name="timeout"/>
    /// passes; returns the remaining differences (empty on success). A database that cannot be
    /// reached counts as not done yet.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WaitForExactLandingAsync(string connectionString, ExpectedLanding expected, TimeSpan timeout,
        Func<bool>? giveUpWhen = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<string> last = ["never read the database"];
        while (true)
        {
            try
            {
                last = await DifferencesAsync(connectionString, expected);
                if (last.Count == 0) return last;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                last = [$"database unreachable: {ex.Message}"];
            }
            if (DateTime.UtcNow > deadline || giveUpWhen?.Invoke() == true) return last;
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Checks that the database holds exactly what the messages below its own stored offsets
    /// carry: rows and offsets committed together, nothing beyond, nothing missing. Only
    /// meaningful while no ingest is writing (after a kill or an exit). Returns the differences
    /// and the stored offsets.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Differences, IReadOnlyDictionary<(string Topic, int Partition), long> Stored)> PrefixDifferencesAsync(
        string connectionString, SampleLoad load)
    {
        var stored = await StoredOffsetsAsync(connectionString, load.UsageTopic, load.HeartbeatTopic);
        var expected = await load.ExpectedUpToAsync(stored);
        return (await DifferencesAsync(connectionString, expected), stored);
    }

    /// <summary>next_offset per partition of the two topics (the highest, should there be several groups).</summary>
    public static async Task<IReadOnlyDictionary<(string Topic, int Partition), long>> StoredOffsetsAsync(string connectionString, string usageTopic, string heartbeatTopic)
    {
        await using var conn = new NpgsqlConnection(Unpooled(connectionString));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT topic, partition, max(next_offset) FROM ingest_offsets WHERE topic = ANY($1) GROUP BY topic, partition", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = new[] { usageTopic, heartbeatTopic } });
        await using var r = await cmd.ExecuteReaderAsync();
        var result = new Dictionary<(string, int), long>();
        while (await r.ReadAsync()) result[(r.GetString(0), r.GetInt32(1))] = r.GetInt64(2);
        return result;
    }

    /// <summary>Rows in gpu_usage now, or -1 while the database cannot be reached.</summary>
    public static async Task<long> UsageRowsAsync(string connectionString)
    {
        try
        {
            await using var conn = new NpgsqlConnection(Unpooled(connectionString));
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM gpu_usage", conn);
            return (long)(await cmd.ExecuteScalarAsync())!;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Waits until gpu_usage holds at least <paramref name="rows"/> rows: the trigger for a fault
    /// "at this point of the stream". Throws with <paramref name="context"/> when it never gets there.
    /// </summary>
    public static async Task<long> WaitForUsageRowsAsync(string connectionString, long rows, TimeSpan timeout, Func<string>? context = null,
        Func<bool>? giveUpWhen = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var now = await UsageRowsAsync(connectionString);
            if (now >= rows) return now;
            if (DateTime.UtcNow > deadline || giveUpWhen?.Invoke() == true)
                throw new TimeoutException($"gpu_usage reached {now} rows, not {rows}, within {timeout} (or the ingest exited)\n{context?.Invoke()}");
            await Task.Delay(20);
        }
    }

    private static async Task<UsageTotals> ReadUsageAsync(NpgsqlConnection conn, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*),
                   coalesce(sum(utilization_pct::float8), 0), coalesce(sum(memory_used_mib), 0)::bigint,
                   coalesce(sum(memory_total_mib), 0)::bigint, coalesce(sum(temperature_c::float8), 0),
                   coalesce(sum(power_w::float8), 0), coalesce(sum(sm_clock_mhz), 0)::bigint, count(sm_clock_mhz),
                   coalesce(sum(ecc_errors), 0)::bigint, count(ecc_errors)
            FROM gpu_usage
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync(cancellation);
        await r.ReadAsync(cancellation);
        return new UsageTotals(r.GetInt64(0), r.GetDouble(1), r.GetInt64(2), r.GetInt64(3), r.GetDouble(4), r.GetDouble(5),
            r.GetInt64(6), r.GetInt64(7), r.GetInt64(8), r.GetInt64(9));
    }

    private static void CompareUsage(UsageTotals expected, UsageTotals found, List<string> differences)
    {
        CompareCount("gpu_usage rows", expected.Rows, found.Rows, differences);
        if (expected.Rows != found.Rows) return;
        // Same count, so any differing sum means other rows than produced (or corrupted values).
        if (expected != found)
            differences.Add($"gpu_usage: row count matches ({found.Rows}) but column sums differ: expected {expected}, found {found}");
    }

    private static void CompareCount(string what, long expected, long found, List<string> differences)
    {
        if (found < expected) differences.Add($"{what}: {found}, expected {expected}: {expected - found} LOST");
        else if (found > expected) differences.Add($"{what}: {found}, expected {expected}: {found - expected} EXTRA (duplicated or not produced by the test)");
    }

    private static async Task<(long, long)> ReadPairAsync(NpgsqlConnection conn, string sql, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync(cancellation);
        await r.ReadAsync(cancellation);
        return (r.GetInt64(0), r.GetInt64(1));
    }

    private static async Task<long> ReadQuarantineAsync(NpgsqlConnection conn, string[] topics, CancellationToken cancellation)
    {
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM quarantine WHERE topic = ANY($1)", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = topics });
        return (long)(await cmd.ExecuteScalarAsync(cancellation))!;
    }

    private static async Task CompareGpuStateAsync(NpgsqlConnection conn, ExpectedLanding expected, List<string> differences, CancellationToken cancellation)
    {
        var found = new Dictionary<string, (DateTimeOffset LastSeen, string Status)>();
        await using (var cmd = new NpgsqlCommand("SELECT gpu_id, last_seen, reported_status FROM gpu_state", conn))
        await using (var r = await cmd.ExecuteReaderAsync(cancellation))
            while (await r.ReadAsync(cancellation))
                found[r.GetString(0)] = (r.GetFieldValue<DateTimeOffset>(1), r.GetString(2));

        var wrong = new List<string>();
        foreach (var (gpu, (ts, status)) in expected.LastHeartbeat)
        {
            if (!found.TryGetValue(gpu, out var row)) wrong.Add($"{gpu} missing");
            else if (row.LastSeen != ts || row.Status != status)
                wrong.Add($"{gpu} last_seen {row.LastSeen:O} {row.Status}, expected {ts:O} {status}");
        }
        wrong.AddRange(found.Keys.Where(g => !expected.LastHeartbeat.ContainsKey(g)).Select(g => $"{g} not sent by the test"));
        if (wrong.Count > 0)
            differences.Add($"gpu_state: {wrong.Count} GPU(s) wrong: {string.Join("; ", wrong.Take(5))}{(wrong.Count > 5 ? "; ..." : "")}");
    }

    private static async Task CompareOffsetsAsync(NpgsqlConnection conn, ExpectedLanding expected, List<string> differences, CancellationToken cancellation)
    {
        var stored = new Dictionary<(string Topic, int Partition), List<(string Group, long Next)>>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT consumer_group, topic, partition, next_offset FROM ingest_offsets WHERE topic = ANY($1)", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = new[] { expected.UsageTopic, expected.HeartbeatTopic } });
            await using var r = await cmd.ExecuteReaderAsync(cancellation);
            while (await r.ReadAsync(cancellation))
            {
                var key = (r.GetString(1), r.GetInt32(2));
                if (!stored.TryGetValue(key, out var list)) stored[key] = list = [];
                list.Add((r.GetString(0), r.GetInt64(3)));
            }
        }

        var groups = stored.Values.SelectMany(l => l.Select(x => x.Group)).Distinct().ToList();
        if (groups.Count > 1) differences.Add($"ingest_offsets: offsets stored under {groups.Count} consumer groups ({string.Join(", ", groups)}), expected one");

        var wrong = new List<string>();
        foreach (var ((topic, partition), end) in expected.EndOffsets.OrderBy(e => e.Key))
        {
            if (!stored.TryGetValue((topic, partition), out var rows)) { wrong.Add($"{topic}[{partition}] none stored, end {end}"); continue; }
            foreach (var (_, next) in rows)
            {
                if (next < end) wrong.Add($"{topic}[{partition}] next_offset {next} < end {end} ({end - next} not committed)");
                else if (next > end) wrong.Add($"{topic}[{partition}] next_offset {next} > end {end} (past the end of the partition)");
            }
        }
        foreach (var ((topic, partition), rows) in stored.Where(s => !expected.EndOffsets.ContainsKey(s.Key)))
            foreach (var (_, next) in rows.Where(r => r.Next != 0))
                wrong.Add($"{topic}[{partition}] next_offset {next} on a partition the test never wrote to");
        if (wrong.Count > 0)
            differences.Add($"ingest_offsets: {wrong.Count} partition(s) not at their end: {string.Join("; ", wrong.Take(6))}{(wrong.Count > 6 ? "; ..." : "")}");
    }

    private static string Unpooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5, CommandTimeout = 30 }.ConnectionString;

    /// <summary>One line per difference, for assertion messages.</summary>
    public static string Describe(IReadOnlyList<string> differences) =>
        differences.Count == 0 ? "exact" : string.Join('\n', differences.Select(d => "  - " + d));
}
