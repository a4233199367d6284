using System.Net;
using System.Text.Json;

namespace Pipeline.Inventory.Tests.Gpus;

public sealed class GpuPaginationTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    [Theory]
    [InlineData("memoryMib", "asc")]
    [InlineData("memoryMib", "desc")]
    [InlineData("createdAt", "desc")]
    [InlineData("id", "asc")]
    public async Task Paging_while_gpus_are_inserted_serves_every_existing_gpu_exactly_once(string sort, string order)
    {
        // Few distinct memory sizes: long runs of ties, so the id tie-breaker carries the keyset.
        var prefix = $"{sort}-{order}-";
        int[] sizes = [16384, 24576, 40960, 81920];
        await server.Database.ExecuteAsync("INSERT INTO providers (id, name) VALUES ('page-co', 'Paging') ON CONFLICT DO NOTHING");
        await server.Database.ExecuteAsync("""
            INSERT INTO gpus (id, provider_id, model, memory_mib, region, price_per_hour)
            SELECT $1 || lpad(n::text, 4, '0'), 'page-co', 'pager', ($2::int[])[1 + n % 4], $3, 1 FROM generate_series(0, 199) n
            """, prefix + "base-", sizes, prefix);
        var before = (await server.Database.ScalarAsync<string[]>("SELECT array_agg(id) FROM gpus WHERE region = $1", prefix)).ToHashSet();

        // Insert new GPUs, sorting before, among and after the existing ones, for as long as the reader pages.
        using var stop = new CancellationTokenSource();
        var inserted = 0;
        var writer = Task.Run(async () =>
        {
            var random = new Random(42);
            while (!stop.IsCancellationRequested)
            {
                var id = $"{prefix}{(char)('a' + random.Next(26))}-{inserted:D5}";
                await FleetSeed.GpuAsync(server.Database, id, "page-co", "pager", sizes[random.Next(sizes.Length)] + random.Next(-1, 2), prefix, heartbeat: Heartbeat.None);
                inserted++;
            }
        });

        var served = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = $"/gpus?region={Uri.EscapeDataString(prefix)}&sort={sort}&order={order}&limit=7"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await server.Anonymous.GetAsync(url).JsonAsync(HttpStatusCode.OK);
            served.AddRange(page.Ids());
            cursor = page.NextCursor();
            pages++;
            // Let the writer get rows in between pages.
            await Task.Delay(5);
        }
        while (cursor is not null);
        await stop.CancelAsync();
        await writer;

        Assert.True(inserted > 0, "the writer inserted nothing while paging");
        Assert.True(pages > 200 / 7, $"only {pages} pages");
        Assert.Equal(served.Count, served.Distinct().Count());
        Assert.Empty(before.Except(served));
    }

    [Fact]
    public async Task Pages_follow_the_requested_order_across_page_boundaries()
    {
        await server.Database.ExecuteAsync("INSERT INTO providers (id, name) VALUES ('order-co', 'Ordering') ON CONFLICT DO NOTHING");
        await server.Database.ExecuteAsync("""
            INSERT INTO gpus (id, provider_id, model, memory_mib, region, price_per_hour)
            SELECT 'ord-' || lpad(n::text, 3, '0'), 'order-co', 'm', 1000 + (n * 37) % 11, 'order-region', 1 FROM generate_series(0, 49) n
            """);

        var memory = new List<(int Memory, string Id)>();
        string? cursor = null;
        do
        {
            var page = await server.Anonymous.GetAsync("/gpus?region=order-region&sort=memoryMib&order=desc&limit=6"
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))).JsonAsync(HttpStatusCode.OK);
            memory.AddRange(page.GetProperty("items").EnumerateArray()
                .Select(g => (g.GetProperty("memoryMib").GetInt32(), g.GetProperty("id").GetString()!)));
            cursor = page.NextCursor();
        }
        while (cursor is not null);

        Assert.Equal(50, memory.Count);
        var sorted = memory.OrderByDescending(m => m.Memory).ThenByDescending(m => m.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(sorted, memory);
    }
}
