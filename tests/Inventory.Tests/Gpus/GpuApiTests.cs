using System.Net;
using System.Text.Json;

namespace Pipeline.Inventory.Tests.Gpus;

public sealed class GpuApiTests(InventoryServer server) : IClassFixture<InventoryServer>
{
    private static object Gpu(string id, string provider = "crud-co", int memoryMib = 81920, string adminStatus = "active") => new
    {
        id,
        providerId = provider,
        model = "H100-SXM",
        memoryMib,
        region = "eu-west",
        pricePerHour = 2.75m,
        capabilities = new { nvlink = true, cuda = "12.4" },
        adminStatus,
    };

    [Fact]
    public async Task Create_read_update_delete_round_trip_with_row_versions()
    {
        await FleetSeed.ProviderAsync(server.Database, "crud-co");

        var created = await server.Admin.PostJson("/gpus", Gpu("crud-1")).JsonAsync(HttpStatusCode.Created);
        Assert.Equal("H100-SXM", created.GetProperty("model").GetString());
        Assert.Equal("12.4", created.GetProperty("capabilities").GetProperty("cuda").GetString());
        Assert.Equal("offline", created.GetProperty("status").GetString()); // no heartbeat yet

        using (var read = await server.ReadOnly.GetAsync("/gpus/crud-1"))
        {
            Assert.Equal("\"1\"", read.Headers.ETag?.Tag);
            var body = await read.JsonAsync(HttpStatusCode.OK);
            Assert.Equal(81920, body.GetProperty("memoryMib").GetInt32());
            Assert.Equal(2.75m, body.GetProperty("pricePerHour").GetDecimal());
        }

        var updated = await server.Admin.PutJson("/gpus/crud-1", Gpu("crud-1", memoryMib: 98304, adminStatus: "maintenance"), ifMatch: "\"1\"")
            .JsonAsync(HttpStatusCode.OK);
        Assert.Equal(98304, updated.GetProperty("memoryMib").GetInt32());
        Assert.Equal("maintenance", updated.GetProperty("adminStatus").GetString());
        Assert.Equal(2, updated.GetProperty("version").GetInt64());

        await server.Admin.PutJson("/gpus/crud-1", Gpu("crud-1", memoryMib: 1), ifMatch: "\"1\"").ProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.Equal(98304, await server.Database.ScalarAsync<int>("SELECT memory_mib FROM gpus WHERE id = 'crud-1'"));

        await server.Admin.DeleteWith("/gpus/crud-1", ifMatch: "\"2\"").JsonAsync(HttpStatusCode.NoContent);
        await server.Anonymous.GetAsync("/gpus/crud-1").ProblemAsync(HttpStatusCode.NotFound);
        await server.Admin.DeleteAsync("/gpus/crud-1").ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bulk_create_inserts_all_or_none()
    {
        await FleetSeed.ProviderAsync(server.Database, "crud-co");
        object[] batch = [Gpu("bulk-1"), Gpu("bulk-2"), Gpu("bulk-3")];

        var created = await server.Admin.PostJson("/gpus/bulk", batch).JsonAsync(HttpStatusCode.Created);
        Assert.Equal(["bulk-1", "bulk-2", "bulk-3"], created.EnumerateArray().Select(g => g.GetProperty("id").GetString()));

        // One bad element (unknown provider) refuses the whole batch, naming the element.
        object[] mixed = [Gpu("bulk-4"), Gpu("bulk-5", provider: "nobody")];
        await server.Admin.PostJson("/gpus/bulk", mixed).ProblemAsync(HttpStatusCode.BadRequest, field: "[1].providerId");
        // One id that already exists refuses the whole batch too.
        object[] clash = [Gpu("bulk-6"), Gpu("bulk-2")];
        await server.Admin.PostJson("/gpus/bulk", clash).ProblemAsync(HttpStatusCode.Conflict);
        object[] invalid = [Gpu("bulk-7"), Gpu("bulk-8", memoryMib: 0)];
        await server.Admin.PostJson("/gpus/bulk", invalid).ProblemAsync(HttpStatusCode.BadRequest, field: "[1].memoryMib");
        object[] repeated = [Gpu("bulk-9"), Gpu("bulk-9")];
        await server.Admin.PostJson("/gpus/bulk", repeated).ProblemAsync(HttpStatusCode.BadRequest, field: "[1].id");

        Assert.Equal(3L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM gpus WHERE id LIKE 'bulk-%'"));
    }

    [Fact]
    public async Task Invalid_fields_are_refused_with_the_field_named()
    {
        await FleetSeed.ProviderAsync(server.Database, "crud-co");
        var valid = JsonSerializer.SerializeToElement(Gpu("invalid-1"), JsonSerializerOptions.Web);

        async Task Refused(string property, object? value, string field)
        {
            var body = JsonSerializer.Deserialize<Dictionary<string, object?>>(valid.GetRawText())!;
            if (value is null) body.Remove(property);
            else body[property] = value;
            await server.Admin.PostJson("/gpus", body).ProblemAsync(HttpStatusCode.BadRequest, field);
        }

        await Refused("model", null, "model");
        await Refused("memoryMib", -5, "memoryMib");
        await Refused("region", "", "region");
        await Refused("pricePerHour", -1, "pricePerHour");
        await Refused("pricePerHour", 100_000_000, "pricePerHour");
        await Refused("capabilities", new[] { 1, 2 }, "capabilities");
        await Refused("adminStatus", "broken", "adminStatus");
        await Refused("providerId", "nobody", "providerId");
        await Refused("memoryMib", "lots", "memoryMib");
        Assert.Equal(0L, await server.Database.ScalarAsync<long>("SELECT count(*) FROM gpus WHERE id = 'invalid-1'"));
    }

    [Fact]
    public async Task A_gpu_with_allocation_history_cannot_be_deleted_but_can_be_retired()
    {
        await FleetSeed.GpuAsync(server.Database, "history-1", "crud-co", region: "history-region");
        var allocation = await server.Admin.PostJson("/allocations", new { tenant = "t", count = 1, leaseSeconds = 60, region = "history-region" })
            .JsonAsync(HttpStatusCode.Created);
        await server.Admin.PostAsync($"/allocations/{allocation.GetProperty("id").GetString()}/release", null).JsonAsync(HttpStatusCode.OK);

        await server.Admin.DeleteAsync("/gpus/history-1").ProblemAsync(HttpStatusCode.Conflict);

        var retired = await server.Admin.PutJson("/gpus/history-1", new
        {
            providerId = "crud-co", model = "H100", memoryMib = 81920, region = "history-region", pricePerHour = 2.5m, adminStatus = "retired",
        }).JsonAsync(HttpStatusCode.OK);
        Assert.Equal("retired", retired.GetProperty("adminStatus").GetString());
        Assert.False(retired.GetProperty("available").GetBoolean());
    }

    [Fact]
    public async Task Put_cannot_change_the_id()
    {
        await FleetSeed.GpuAsync(server.Database, "fixed-id", "crud-co");
        await server.Admin.PutJson("/gpus/fixed-id", Gpu("other-id")).ProblemAsync(HttpStatusCode.BadRequest, field: "id");
    }
}
