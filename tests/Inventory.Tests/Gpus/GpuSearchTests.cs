using System.Net;
using System.Text.Json;

namespace Pipeline.Inventory.Tests.Gpus;

/// <summary>A fixed fleet of 24 GPUs with varied fields, heartbeats and one lease, written once for all search tests.</summary>
public sealed class SearchFleet : IAsyncLifetime
{
    public sealed record Seeded(string Id, string Provider, string Model, int MemoryMib, string Region, decimal Price, string Capabilities, string AdminStatus, Heartbeat Heartbeat)
    {
        public string Status => Heartbeat switch
        {
            Heartbeat.Healthy => "online",
            Heartbeat.Degraded or Heartbeat.Unhealthy => "degraded",
            _ => "offline",
        };
    }

    public InventoryServer Server { get; } = new();

    public List<Seeded> Gpus { get; } = [];

    public const string AllocatedId = "s05";

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        string[] providers = ["p-a", "p-b", "p-c"];
        string[] models = ["H100", "A100", "L4"];
        int[] memory = [81920, 40960, 24576, 81920, 98304];
        string[] capabilities = ["""{"nvlink": true, "cuda": "12.4"}""", """{"mig": 7}""", "{}", """{"nvlink": false, "cuda": 12.2}"""];
        Heartbeat[] heartbeats = [Heartbeat.Healthy, Heartbeat.Healthy, Heartbeat.Stale, Heartbeat.Degraded, Heartbeat.None, Heartbeat.Unhealthy];
        for (var i = 0; i < 24; i++)
        {
            var gpu = new Seeded($"s{i:D2}", providers[i % 3], models[i % 3 == 0 ? 0 : i % 2 + 1], memory[i % 5], i % 4 == 0 ? "us-east" : "eu-west",
                1.25m + i % 7 * 0.5m, capabilities[i % 4], i % 8 == 7 ? "maintenance" : "active", heartbeats[i % 6]);
            Gpus.Add(gpu);
            await FleetSeed.GpuAsync(Server.Database, gpu.Id, gpu.Provider, gpu.Model, gpu.MemoryMib, gpu.Region, gpu.Price, gpu.Capabilities, gpu.AdminStatus, gpu.Heartbeat);
        }
        await Server.Database.ExecuteAsync(
            "INSERT INTO allocations (request_id, gpu_id, tenant, starts_at, ends_at) VALUES (gen_random_uuid(), $1, 'holder', now(), now() + interval '1 hour')", AllocatedId);
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

public sealed class GpuSearchTests(SearchFleet fleet) : IClassFixture<SearchFleet>
{
    private HttpClient Client => fleet.Server.Anonymous;

    private async Task<List<JsonElement>> AllPagesAsync(string query, int limit = 5)
    {
        var items = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var url = $"/gpus?{query}&limit={limit}" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = await Client.GetAsync(url).JsonAsync(HttpStatusCode.OK);
            var pageItems = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(pageItems.Count <= limit);
            items.AddRange(pageItems);
            cursor = page.NextCursor();
        }
        while (cursor is not null);
        return items;
    }

    private async Task AssertFilter(string query, Func<SearchFleet.Seeded, bool> expected)
    {
        var ids = (await AllPagesAsync(query)).Select(g => g.GetProperty("id").GetString()).ToList();
        var want = fleet.Gpus.Where(expected).Select(g => g.Id).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(want);
        Assert.True(want.SequenceEqual(ids), $"{query}: expected [{string.Join(",", want)}] got [{string.Join(",", ids)}]");
    }

    [Fact]
    public async Task Each_filter_returns_exactly_the_matching_gpus()
    {
        await AssertFilter("provider=p-b", g => g.Provider == "p-b");
        await AssertFilter("model=A100", g => g.Model == "A100");
        await AssertFilter("minMemoryMib=81920", g => g.MemoryMib >= 81920);
        await AssertFilter("region=us-east", g => g.Region == "us-east");
        await AssertFilter("adminStatus=maintenance", g => g.AdminStatus == "maintenance");
        await AssertFilter("status=online", g => g.Status == "online");
        await AssertFilter("status=offline", g => g.Status == "offline");
        await AssertFilter("status=degraded", g => g.Status == "degraded");
        await AssertFilter("available=true", g => g.Status == "online" && g.AdminStatus == "active" && g.Id != SearchFleet.AllocatedId);
        await AssertFilter("available=false", g => !(g.Status == "online" && g.AdminStatus == "active" && g.Id != SearchFleet.AllocatedId));
        await AssertFilter("capability=nvlink", g => g.Capabilities.Contains("nvlink"));
        await AssertFilter("capability=nvlink=true", g => g.Capabilities.Contains("\"nvlink\": true"));
        await AssertFilter("capability=cuda=12.2", g => g.Capabilities.Contains("12.2"));
        await AssertFilter("capability=cuda&capability=nvlink=false", g => g.Capabilities.Contains("\"nvlink\": false"));
        await AssertFilter("provider=p-a&model=H100&region=eu-west&minMemoryMib=40000",
            g => g.Provider == "p-a" && g.Model == "H100" && g.Region == "eu-west" && g.MemoryMib >= 40000);
    }

    [Fact]
    public async Task The_allocated_gpu_is_shown_as_allocated_and_unavailable()
    {
        var gpu = await Client.GetAsync($"/gpus/{SearchFleet.AllocatedId}").JsonAsync(HttpStatusCode.OK);
        Assert.True(gpu.GetProperty("allocated").GetBoolean());
        Assert.False(gpu.GetProperty("available").GetBoolean());
    }

    public static TheoryData<string, string> SortKeys() => new()
    {
        { "id", "asc" }, { "id", "desc" },
        { "providerId", "asc" }, { "providerId", "desc" },
        { "model", "asc" }, { "model", "desc" },
        { "memoryMib", "asc" }, { "memoryMib", "desc" },
        { "region", "asc" }, { "region", "desc" },
        { "pricePerHour", "asc" }, { "pricePerHour", "desc" },
        { "adminStatus", "asc" }, { "adminStatus", "desc" },
        { "status", "asc" }, { "status", "desc" },
    };

    [Theory]
    [MemberData(nameof(SortKeys))]
    public async Task Sorting_by_a_field_pages_through_in_that_order_with_id_breaking_ties(string sort, string order)
    {
        Func<SearchFleet.Seeded, IComparable> key = sort switch
        {
            "id" => g => g.Id,
            "providerId" => g => g.Provider,
            "model" => g => g.Model,
            "memoryMib" => g => g.MemoryMib,
            "region" => g => g.Region,
            "pricePerHour" => g => g.Price,
            "adminStatus" => g => g.AdminStatus,
            "status" => g => g.Status,
            _ => throw new ArgumentOutOfRangeException(nameof(sort)),
        };
        var expected = order == "asc"
            ? fleet.Gpus.OrderBy(key).ThenBy(g => g.Id, StringComparer.Ordinal)
            : fleet.Gpus.OrderByDescending(key).ThenByDescending(g => g.Id, StringComparer.Ordinal);

        var ids = (await AllPagesAsync($"sort={sort}&order={order}")).Select(g => g.GetProperty("id").GetString());

        Assert.Equal(expected.Select(g => g.Id), ids);
    }

    [Theory]
    [InlineData("lastSeen", "COALESCE(s.last_seen, 'epoch')")]
    [InlineData("createdAt", "g.created_at")]
    [InlineData("updatedAt", "g.updated_at")]
    public async Task Sorting_by_a_timestamp_pages_through_in_time_order(string sort, string column)
    {
        foreach (var order in new[] { "asc", "desc" })
        {
            var expected = await fleet.Server.Database.ScalarAsync<string[]>(
                $"SELECT array_agg(g.id ORDER BY {column} {order}, g.id {order}) FROM gpus g LEFT JOIN gpu_state s ON s.gpu_id = g.id");

            var ids = (await AllPagesAsync($"sort={sort}&order={order}", limit: 4)).Select(g => g.GetProperty("id").GetString());

            Assert.Equal(expected, ids);
        }
    }

    [Fact]
    public async Task A_cursor_only_continues_the_ordering_it_was_made_for()
    {
        var page = await Client.GetAsync("/gpus?sort=memoryMib&limit=3").JsonAsync(HttpStatusCode.OK);
        var cursor = Uri.EscapeDataString(page.NextCursor()!);

        await Client.GetAsync($"/gpus?sort=model&limit=3&cursor={cursor}").ProblemAsync(HttpStatusCode.BadRequest, field: "cursor");
        await Client.GetAsync($"/gpus?sort=memoryMib&order=desc&limit=3&cursor={cursor}").ProblemAsync(HttpStatusCode.BadRequest, field: "cursor");
        await Client.GetAsync("/gpus?cursor=not-a-cursor").ProblemAsync(HttpStatusCode.BadRequest, field: "cursor");
    }

    [Fact]
    public async Task Page_size_is_bounded()
    {
        await Client.GetAsync("/gpus?limit=101").ProblemAsync(HttpStatusCode.BadRequest, field: "limit");
        await Client.GetAsync("/gpus?limit=0").ProblemAsync(HttpStatusCode.BadRequest, field: "limit");
        var page = await Client.GetAsync("/gpus").JsonAsync(HttpStatusCode.OK);
        Assert.Equal(20, page.Ids().Length); // Inventory:DefaultPageSize in the test server
        Assert.NotNull(page.NextCursor());
    }

    [Fact]
    public async Task Invalid_filter_values_name_the_parameter()
    {
        await Client.GetAsync("/gpus?minMemoryMib=lots").ProblemAsync(HttpStatusCode.BadRequest, field: "minMemoryMib");
        await Client.GetAsync("/gpus?status=sleepy").ProblemAsync(HttpStatusCode.BadRequest, field: "status");
        await Client.GetAsync("/gpus?adminStatus=gone").ProblemAsync(HttpStatusCode.BadRequest, field: "adminStatus");
        await Client.GetAsync("/gpus?available=maybe").ProblemAsync(HttpStatusCode.BadRequest, field: "available");
        await Client.GetAsync("/gpus?order=sideways").ProblemAsync(HttpStatusCode.BadRequest, field: "order");
        await Client.GetAsync("/gpus?sort=nope").ProblemAsync(HttpStatusCode.BadRequest, field: "sort");
    }
}
