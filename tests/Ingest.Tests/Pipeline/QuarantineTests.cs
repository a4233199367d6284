using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Npgsql;
using Pipeline.TestSupport;

namespace Pipeline.Ingest.Tests.Pipeline;

/// <summary>Bad input lands in quarantine with its reason and raw bytes; the partition never stops.</summary>
public sealed class QuarantineTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public async Task DisposeAsync() => await _database.DisposeAsync();

    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static string Usage(string gpu, DateTimeOffset ts, string utilization = "50", string memoryUsed = "1024", string extra = "") =>
        $$"""{"gpu_id":"{{gpu}}","provider_id":"p1","ts":{{ts.ToUnixTimeMilliseconds()}},"utilization_pct":{{utilization}},"memory_used_mib":{{memoryUsed}},"memory_total_mib":81920,"temperature_c":40{{extra}}}""";

    private static string PowerField => ""","power_w":300""";

    private static string ValidUsage(string gpu, int second) => Usage(gpu, Now.AddMinutes(-5).AddSeconds(second), extra: PowerField);

    /// <summary>Usage messages in partition order, with the quarantine rows each must leave: (element index, reason).</summary>
    private static List<(byte[]? Value, (int? Element, string Reason)[] Rejected, int Rows)> UsageMessages()
    {
        var oneMiB = new byte[1024 * 1024];
        oneMiB.AsSpan().Fill((byte)' ');
        oneMiB[0] = (byte)'[';
        oneMiB[^1] = (byte)']';
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        var badUtf8 = Utf8(ValidUsage("gpu-utf8", 1));
        badUtf8[12] = 0xFF;
        return
        [
            (Utf8(ValidUsage("gpu-a", 0)), [], 1),
            ([], [(null, "empty_value")], 0),
            (null, [(null, "empty_value")], 0),
            (Utf8("""{"gpu_id":"gpu-x","""), [(null, "malformed_json")], 0),
            (badUtf8, [(null, "invalid_utf8")], 0),
            (oneMiB, [(null, "value_too_large")], 0),
            (Utf8(Usage("gpu-b", Now.AddMinutes(-4), utilization: "101", extra: PowerField)), [(null, "out_of_range")], 0),
            (Utf8(Usage("gpu-b", Now.AddMinutes(-4), utilization: "1e999", extra: PowerField)), [(null, "not_finite")], 0),
            (Utf8(Usage("gpu-b", Now.AddMinutes(-4), memoryUsed: "-1", extra: PowerField)), [(null, "out_of_range")], 0),
            (Utf8(Usage("gpu-b", Now.AddHours(1), extra: PowerField)), [(null, "timestamp_in_future")], 0),
            (Utf8(Usage("gpu-b", Now.AddDays(-40), extra: PowerField)), [(null, "timestamp_too_old")], 0),
            (Utf8(Usage("gpu-b", Now.AddMinutes(-4))), [(null, "missing_field")], 0),
            (Utf8($"[{ValidUsage("gpu-c", 1)},{Usage("gpu-c", Now.AddMinutes(-5).AddSeconds(2), utilization: "200", extra: PowerField)},{ValidUsage("gpu-c", 3)}]"),
                [(1, "out_of_range")], 2),
            (Utf8(ValidUsage("gpu-d", 0)), [], 1),
        ];
    }

    private static string Heartbeat(string status) =>
        $$"""{"gpu_id":"gpu-a","provider_id":"p1","ts":"{{Now.AddMinutes(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}","status":"{{status}}","agent_version":"1.0.0","driver_version":"550.54.15","uptime_s":12}""";

    [Fact]
    public async Task Each_invalid_message_is_quarantined_with_its_reason_and_raw_bytes_while_valid_ones_land_and_the_partition_moves_on()
    {
        using var world = new PipelineWorld(_database.ConnectionString, partitions: 1);
        var usage = UsageMessages();
        Produce(world, usage.Select(m => m.Value), [Encoding.UTF8.GetBytes(Heartbeat("healthy")), Encoding.UTF8.GetBytes(Heartbeat("on-fire"))]);

        await using var ingest = InProcessIngest.Start(world.Options());
        await WaitForOffsetsAsync(world, ingest, usage.Count, 2);

        Assert.Equal(usage.Sum(m => m.Rows), await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_usage"));
        Assert.Equal(["gpu-a", "gpu-c", "gpu-d"], await StringsAsync("SELECT DISTINCT gpu_id FROM gpu_usage ORDER BY 1"));
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM gpu_heartbeat"));
        Assert.Equal("healthy", await _database.ScalarAsync<string>("SELECT reported_status FROM gpu_state WHERE gpu_id = 'gpu-a'"));

        var expected = usage
            .SelectMany((m, offset) => m.Rejected.Select(r => $"{world.UsageTopic}/{offset}/{r.Element?.ToString(CultureInfo.InvariantCulture) ?? "-"}/{r.Reason}"))
            .Append($"{world.HeartbeatTopic}/1/-/invalid_status")
            .Order(StringComparer.Ordinal).ToList();
        var found = (await StringsAsync(
            """SELECT topic || '/' || "offset" || '/' || coalesce(element_index::text, '-') || '/' || reason FROM quarantine""")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, found);

        // Raw bytes exactly as received (null for the tombstone), key kept, a detail for a person.
        for (var offset = 0; offset < usage.Count; offset++)
        {
            if (usage[offset].Rejected.Length == 0) continue;
            await using var conn = _database.Open();
            await using var cmd = new NpgsqlCommand(
                """SELECT raw_value, message_key, detail FROM quarantine WHERE topic = $1 AND "offset" = $2 LIMIT 1""", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = world.UsageTopic });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (long)offset });
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(usage[offset].Value, reader.IsDBNull(0) ? null : (byte[])reader[0]);
            Assert.Equal(Encoding.UTF8.GetBytes($"key-{offset}"), (byte[])reader[1]);
            Assert.False(string.IsNullOrWhiteSpace(reader.GetString(2)));
        }

        Assert.Equal(2, await ingest.MetricAsync("ingest_samples_rejected_total", ("reason", "empty_value")));
        Assert.Equal(3, await ingest.MetricAsync("ingest_samples_rejected_total", ("table", "gpu_usage"), ("reason", "out_of_range")));
        Assert.Equal(1, await ingest.MetricAsync("ingest_samples_rejected_total", ("table", "gpu_heartbeat"), ("reason", "invalid_status")));
    }

    [Fact]
    public async Task Rejected_messages_are_also_copied_once_each_to_the_dead_letter_topic()
    {
        using var world = new PipelineWorld(_database.ConnectionString, partitions: 1);
        var deadLetters = "dead-" + world.ConsumerGroup;
        world.Broker.CreateTopic(deadLetters, 1);
        var usage = UsageMessages();
        Produce(world, usage.Select(m => m.Value), []);

        await using var ingest = InProcessIngest.Start(world.Options(o => o with { DeadLetterTopic = deadLetters }));
        await WaitForOffsetsAsync(world, ingest, usage.Count, 0);

        var expectedOffsets = usage.Select((m, offset) => (m, offset)).Where(x => x.m.Rejected.Length > 0).Select(x => (long)x.offset).ToList();
        using var reader = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = world.Broker.BootstrapServers, GroupId = "dlt-reader" }).Build();
        reader.Assign(new TopicPartitionOffset(deadLetters, 0, Offset.Beginning));
        var seen = new List<(long Offset, string Reason)>();
        while (seen.Count < expectedOffsets.Count)
        {
            var r = reader.Consume(InProcessIngest.Patience) ?? throw new TimeoutException($"dead-letter topic holds {seen.Count} of {expectedOffsets.Count}\n{ingest.Log}");
            var offset = long.Parse(Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("source_offset")), CultureInfo.InvariantCulture);
            seen.Add((offset, Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("reason"))));
            Assert.Equal(usage[(int)offset].Value ?? [], r.Message.Value ?? []);
        }
        Assert.Equal(expectedOffsets, seen.Select(s => s.Offset));
        Assert.Equal("value_too_large", seen.Single(s => s.Offset == 5).Reason);
        Assert.Null(reader.Consume(TimeSpan.FromMilliseconds(500)));
    }

    private static void Produce(PipelineWorld world, IEnumerable<byte[]?> usage, IEnumerable<byte[]> heartbeats)
    {
        using var producer = new ProducerBuilder<byte[], byte[]?>(new ProducerConfig
        {
            BootstrapServers = world.Broker.BootstrapServers,
            MessageMaxBytes = 4 * 1024 * 1024,
            EnableIdempotence = true,
        }).Build();
        var offset = 0;
        foreach (var value in usage)
            producer.Produce(new TopicPartition(world.UsageTopic, 0), new Message<byte[], byte[]?> { Key = Encoding.UTF8.GetBytes($"key-{offset++}"), Value = value });
        foreach (var value in heartbeats)
            producer.Produce(new TopicPartition(world.HeartbeatTopic, 0), new Message<byte[], byte[]?> { Key = "gpu-a"u8.ToArray(), Value = value });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private static async Task WaitForOffsetsAsync(PipelineWorld world, InProcessIngest ingest, long usageEnd, long heartbeatEnd)
    {
        var deadline = DateTime.UtcNow + InProcessIngest.Patience;
        while (true)
        {
            var stored = await IngestAudit.StoredOffsetsAsync(world.ConnectionString, world.UsageTopic, world.HeartbeatTopic);
            if (stored.GetValueOrDefault((world.UsageTopic, 0)) == usageEnd && stored.GetValueOrDefault((world.HeartbeatTopic, 0)) == heartbeatEnd) return;
            if (DateTime.UtcNow > deadline || ingest.Run.IsCompleted)
                Assert.Fail($"offsets {string.Join(", ", stored)}; expected usage {usageEnd}, heartbeat {heartbeatEnd}\n{ingest.Log}");
            await Task.Delay(50);
        }
    }

    private async Task<List<string>> StringsAsync(string sql)
    {
        var result = new List<string>();
        await using var conn = _database.Open();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result.Add(reader.GetString(0));
        return result;
    }
}
