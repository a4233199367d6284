using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;
using Pipeline.Inventory.Auth;

namespace Pipeline.Inventory;

/// <summary>Settings of the inventory API, all under the "Inventory" configuration section.</summary>
public sealed record InventoryOptions(
    string Urls,
    TimeSpan OfflineAfter,
    bool RequireAuthForReads,
    IReadOnlyList<ApiToken> Tokens,
    int DefaultPageSize,
    int MaxPageSize,
    long MaxRequestBodyBytes,
    int MaxBulkGpus,
    int MaxAllocationCount,
    TimeSpan MaxLease,
    int MaxUsageBuckets,
    TimeSpan MaxUsageRange)
{
    public const string Section = "Inventory";
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static InventoryOptions From(IConfiguration config)
    {
        var defaultPage = Settings.Int(config, "Inventory:DefaultPageSize", 50, 1, 10_000);
        var maxPage = Settings.Int(config, "Inventory:MaxPageSize", 500, 1, 10_000);
        if (defaultPage > maxPage)
            throw new InvalidSettingException("Inventory:DefaultPageSize", $"{defaultPage} is larger than Inventory:MaxPageSize ({maxPage})");

        return new InventoryOptions(
            Urls: Settings.OptionalString(config, "Inventory:Urls", DefaultUrls),
            OfflineAfter: Settings.Duration(config, "Inventory:OfflineAfter", TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
            RequireAuthForReads: Settings.Bool(config, "Inventory:RequireAuthForReads", false),
            Tokens: ApiToken.ReadAll(config),
            DefaultPageSize: defaultPage,
            MaxPageSize: maxPage,
            MaxRequestBodyBytes: Settings.Long(config, "Inventory:MaxRequestBodyBytes", 1024 * 1024, 1024, 256L * 1024 * 1024),
            MaxBulkGpus: Settings.Int(config, "Inventory:MaxBulkGpus", 1000, 1, 100_000),
            MaxAllocationCount: Settings.Int(config, "Inventory:MaxAllocationCount", 256, 1, 100_000),
            MaxLease: Settings.Duration(config, "Inventory:MaxLease", TimeSpan.FromDays(30), TimeSpan.FromSeconds(1), TimeSpan.FromDays(3650)),
            MaxUsageBuckets: Settings.Int(config, "Inventory:MaxUsageBuckets", 2000, 1, 1_000_000),
            MaxUsageRange: Settings.Duration(config, "Inventory:MaxUsageRange", TimeSpan.FromDays(31), TimeSpan.FromMinutes(1), TimeSpan.FromDays(3650)));
    }
}
