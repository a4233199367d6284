using System.Text.Json;
using Pipeline.Inventory.Errors;
using Pipeline.Inventory.Http;

namespace Pipeline.Inventory.Gpus;

/// <summary>A GPU as the API shows it: inventory fields plus the status derived from heartbeats and leases.</summary>
/// <param name="AdminStatus">Set by operators: active, maintenance or retired.</param>
/// <param name="Status">Derived: online, offline or degraded (see docs/inventory-api.md).</param>
/// <param name="ReportedStatus">What the GPU's agent reported in its last heartbeat, if any.</param>
/// <param name="Allocated">In a lease right now.</param>
/// <param name="Available">Could be allocated right now: online, admin status active and not allocated.</param>
public sealed record GpuView(
    string Id,
    string ProviderId,
    string Model,
    int MemoryMib,
    string Region,
    decimal PricePerHour,
    JsonElement Capabilities,
    string AdminStatus,
    string Status,
    string? ReportedStatus,
    DateTime? LastSeen,
    bool Allocated,
    bool Available,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    long Version);

/// <summary>Body of POST /gpus (and each element of POST /gpus/bulk) and of PUT /gpus/{id}.</summary>
public sealed record GpuInput(
    string? Id,
    string? ProviderId,
    string? Model,
    int? MemoryMib,
    string? Region,
    decimal? PricePerHour,
    JsonElement? Capabilities,
    string? AdminStatus);

/// <summary>Validated GPU fields, ready for SQL.</summary>
public sealed record GpuFields(
    string Id, string ProviderId, string Model, int MemoryMib, string Region, decimal PricePerHour, string CapabilitiesJson, string AdminStatus)
{
    public static readonly IReadOnlyList<string> AdminStatuses = ["active", "maintenance", "retired"];

    /// <summary>numeric(12, 4): below 10^8.</summary>
    private const decimal PriceLimit = 100_000_000m;

    /// <param name="prefix">Prepended to field names in errors, e.g. "[3]." for the fourth element of a bulk request.</param>
    /// <param name="routeId">The id from the URL for PUT; the body may omit it but must not contradict it.</param>
    public static GpuFields From(GpuInput input, string prefix = "", string? routeId = null)
    {
        string id;
        if (routeId is null) id = Input.Text(input.Id, prefix + "id", 128);
        else if (input.Id is null || input.Id == routeId) id = routeId;
        else throw ProblemException.Invalid(prefix + "id", $"'id' in the body ('{input.Id}') differs from the URL ('{routeId}'); ids cannot be changed.");

        var price = input.PricePerHour ?? throw ProblemException.Invalid(prefix + "pricePerHour", "'pricePerHour' is required.");
        if (price < 0 || price >= PriceLimit)
            throw ProblemException.Invalid(prefix + "pricePerHour", $"'pricePerHour' must be at least 0 and below {PriceLimit}.");

        return new GpuFields(
            id,
            Input.Text(input.ProviderId, prefix + "providerId", 128),
            Input.Text(input.Model, prefix + "model", 128),
            Input.Int(input.MemoryMib, prefix + "memoryMib", 1, int.MaxValue),
            Input.Text(input.Region, prefix + "region", 64),
            price,
            Input.JsonObject(input.Capabilities, prefix + "capabilities"),
            input.AdminStatus is null ? "active" : Input.OneOf(input.AdminStatus, prefix + "adminStatus", AdminStatuses));
    }
}
