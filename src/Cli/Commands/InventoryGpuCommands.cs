using System.Text.Json;
using Pipeline.Hosting;

namespace Pipeline.Cli.Commands;

public sealed class InventoryGpusListCommand : ICliCommand
{
    // Command-line flag -> query parameter of GET /gpus.
    private static readonly (string Flag, string Query)[] Filters =
    [
        ("provider", "provider"), ("model", "model"), ("min-memory", "minMemoryMib"), ("region", "region"),
        ("admin-status", "adminStatus"), ("status", "status"), ("available", "available"),
        ("sort", "sort"), ("order", "order"), ("limit", "limit"), ("cursor", "cursor"),
    ];

    public IReadOnlyList<string> Path => ["gpus", "list"];
    public string Summary => "list GPUs from the inventory API, with filters and sorting";
    public string Usage => """
        --provider P --model M --min-memory MIB --region R
        --admin-status active|maintenance|retired --status online|offline|degraded --available true|false
        --capability KEY[=VALUE][,KEY...]   capabilities the GPU must have
        --sort FIELD --order asc|desc        FIELD: id, providerId, model, memoryMib, region, pricePerHour,
                                             adminStatus, status, lastSeen, createdAt, updatedAt
        --limit N --cursor C                 one page; --all follows the cursors to the end
        --json                               print the API's JSON instead of a table
        --Inventory:Url=http://127.0.0.1:8080 --Inventory:Token=...
        """;

    public Task<int> RunAsync(CliContext context, CancellationToken cancellation) =>
        InventoryCliOutput.ReportFailuresAsync("gpus list", async () =>
        {
            var config = context.Configuration;
            var json = Settings.Bool(config, "json", false);
            var all = Settings.Bool(config, "all", false);
            var query = new List<string>();
            foreach (var (flag, name) in Filters)
                if (config[flag] is { Length: > 0 } value) query.Add($"{name}={Uri.EscapeDataString(value)}");
            foreach (var capability in (config["capability"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                query.Add($"capability={Uri.EscapeDataString(capability)}");

            using var api = InventoryApiClient.From(config);
            var items = new List<JsonElement>();
            string? cursor = null;
            JsonElement page;
            do
            {
                var pageQuery = cursor is null ? query : [.. query.Where(q => !q.StartsWith("cursor=", StringComparison.Ordinal)), $"cursor={Uri.EscapeDataString(cursor)}"];
                page = await api.SendAsync(HttpMethod.Get, "gpus?" + string.Join('&', pageQuery), null, cancellation);
                items.AddRange(page.GetProperty("items").EnumerateArray());
                cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.String ? page.GetProperty("nextCursor").GetString() : null;
            }
            while (all && cursor is not null);

            if (json)
            {
                InventoryCliOutput.WriteJson(context.Out, JsonSerializer.SerializeToElement(new { items, nextCursor = cursor }, JsonSerializerOptions.Web));
                return 0;
            }
            InventoryCliOutput.WriteTable(context.Out,
                ["ID", "PROVIDER", "MODEL", "MEMORY_MIB", "REGION", "PRICE/H", "ADMIN", "STATUS", "ALLOCATED"],
                items.Select(g => (IReadOnlyList<string>)
                [
                    InventoryCliOutput.Field(g, "id"), InventoryCliOutput.Field(g, "providerId"), InventoryCliOutput.Field(g, "model"),
                    InventoryCliOutput.Field(g, "memoryMib"), InventoryCliOutput.Field(g, "region"), InventoryCliOutput.Field(g, "pricePerHour"),
                    InventoryCliOutput.Field(g, "adminStatus"), InventoryCliOutput.Field(g, "status"), InventoryCliOutput.Field(g, "allocated"),
                ]));
            if (cursor is not null) context.Out.WriteLine($"more: --cursor {cursor}   (or --all)");
            return 0;
        });
}

public sealed class InventoryGpusShowCommand : ICliCommand
{
    public IReadOnlyList<string> Path => ["gpus", "show"];
    public string Summary => "show one GPU: inventory fields, derived status and heartbeat state";
    public string Usage => "ID                   the GPU id\n--json               print the API's JSON\n--Inventory:Url=... --Inventory:Token=...";

    public Task<int> RunAsync(CliContext context, CancellationToken cancellation) =>
        InventoryCliOutput.ReportFailuresAsync("gpus show", async () =>
        {
            if (context.Arguments.Count != 1) throw new InvalidSettingException("ID", "give exactly one GPU id: pipeline gpus show ID");
            var id = Uri.EscapeDataString(context.Arguments[0]);
            using var api = InventoryApiClient.From(context.Configuration);
            var gpu = await api.SendAsync(HttpMethod.Get, $"gpus/{id}", null, cancellation);
            var status = await api.SendAsync(HttpMethod.Get, $"gpus/{id}/status", null, cancellation);
            if (Settings.Bool(context.Configuration, "json", false))
            {
                InventoryCliOutput.WriteJson(context.Out, JsonSerializer.SerializeToElement(new { gpu, status }, JsonSerializerOptions.Web));
                return 0;
            }
            (string Label, string Value)[] lines =
            [
                ("id", InventoryCliOutput.Field(gpu, "id")),
                ("provider", InventoryCliOutput.Field(gpu, "providerId")),
                ("model", InventoryCliOutput.Field(gpu, "model")),
                ("memory MiB", InventoryCliOutput.Field(gpu, "memoryMib")),
                ("region", InventoryCliOutput.Field(gpu, "region")),
                ("price/hour", InventoryCliOutput.Field(gpu, "pricePerHour")),
                ("capabilities", InventoryCliOutput.Field(gpu, "capabilities")),
                ("admin status", InventoryCliOutput.Field(gpu, "adminStatus")),
                ("status", InventoryCliOutput.Field(status, "status")),
                ("reported", InventoryCliOutput.Field(status, "reportedStatus")),
                ("last seen", InventoryCliOutput.Field(status, "lastSeen")),
                ("failing checks", string.Join(", ", status.GetProperty("failingChecks").EnumerateArray().Select(c => c.GetString()))),
                ("agent / driver", $"{InventoryCliOutput.Field(status, "agentVersion")} / {InventoryCliOutput.Field(status, "driverVersion")}"),
                ("allocated", InventoryCliOutput.Field(gpu, "allocated")),
                ("available", InventoryCliOutput.Field(gpu, "available")),
                ("version", InventoryCliOutput.Field(gpu, "version")),
            ];
            foreach (var (label, value) in lines) context.Out.WriteLine($"{label,-15} {value}");
            return 0;
        });
}
