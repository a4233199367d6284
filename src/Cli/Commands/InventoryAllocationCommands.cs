using System.Text.Json;
using Pipeline.Hosting;

namespace Pipeline.Cli.Commands;

public sealed class InventoryAllocateCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["allocate"];
    public string Summary => "lease N GPUs for a tenant through the inventory API: all of them or none";
    public string Usage => """
        --tenant T --count N --lease 2h      required; lease as 90s, 30m, 2h, 7d
        --model M --min-memory MIB --region R --provider P --capability KEY[,KEY...]
        --json                               print the API's JSON
        --Inventory:Url=http://127.0.0.1:8080 --Inventory:Token=... (admin)
        """;

    public Task<int> RunAsync(CliContext context, CancellationToken cancellation) =>
        InventoryCliOutput.ReportFailuresAsync("allocate", async () =>
        {
            var config = context.Configuration;
            Settings.RequiredString(config, "lease");
            var lease = Settings.Duration(config, "lease", TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromDays(3650));
            var body = new
            {
                tenant = Settings.RequiredString(config, "tenant"),
                count = Settings.Int(config, "count", 1, 1, int.MaxValue),
                leaseSeconds = (int)Math.Ceiling(lease.TotalSeconds),
                model = config["model"],
                minMemoryMib = config["min-memory"] is { Length: > 0 } ? Settings.Int(config, "min-memory", 0, 0, int.MaxValue) : (int?)null,
                region = config["region"],
                providerId = config["provider"],
                capabilities = config["capability"]?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            using var api = InventoryApiClient.From(config);
            var allocation = await api.SendAsync(HttpMethod.Post, "allocations", body, cancellation);
            InventoryAllocationOutput.Write(context.Out, allocation, Settings.Bool(config, "json", false));
            return 0;
        });
}

public sealed class InventoryReleaseCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["release"];
    public string Summary => "end an allocation's lease early (safe to repeat)";
    public string Usage => "ID                   the allocation id printed by 'pipeline allocate'\n--json\n--Inventory:Url=... --Inventory:Token=... (admin)";

    public Task<int> RunAsync(CliContext context, CancellationToken cancellation) =>
        InventoryCliOutput.ReportFailuresAsync("release", async () =>
        {
            if (context.Arguments.Count != 1 || !Guid.TryParse(context.Arguments[0], out var id))
                throw new InvalidSettingException("ID", "give exactly one allocation id (a UUID): pipeline release ID");
            using var api = InventoryApiClient.From(context.Configuration);
            var allocation = await api.SendAsync(HttpMethod.Post, $"allocations/{id}/release", null, cancellation);
            InventoryAllocationOutput.Write(context.Out, allocation, Settings.Bool(context.Configuration, "json", false));
            return 0;
        });
}

internal static class InventoryAllocationOutput
{
    public static void Write(TextWriter output, JsonElement allocation, bool json)
    {
        if (json)
        {
            InventoryCliOutput.WriteJson(output, allocation);
            return;
        }
        string F(string name) => InventoryCliOutput.Field(allocation, name);
        output.WriteLine($"allocation {F("id")}  tenant {F("tenant")}  state {F("state")}");
        output.WriteLine($"lease {F("startsAt")} .. {F("endsAt")}" + (F("releasedAt") is { Length: > 0 } released ? $"  released {released}" : ""));
        InventoryCliOutput.WriteTable(output, ["GPU", "PROVIDER", "MODEL", "MEMORY_MIB", "REGION"],
            allocation.GetProperty("gpus").EnumerateArray().Select(g => (IReadOnlyList<string>)
            [
                InventoryCliOutput.Field(g, "gpuId"), InventoryCliOutput.Field(g, "providerId"), InventoryCliOutput.Field(g, "model"),
                InventoryCliOutput.Field(g, "memoryMib"), InventoryCliOutput.Field(g, "region"),
            ]));
    }
}
