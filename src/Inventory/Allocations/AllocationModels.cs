namespace Pipeline.Inventory.Allocations;

/// <summary>Body of POST /allocations: N GPUs matching the constraints, for a tenant, for a lease.</summary>
/// <param name="Capabilities">Keys that must be present in each GPU's capabilities.</param>
public sealed record AllocationInput(
    string? Tenant,
    int? Count,
    int? LeaseSeconds,
    string? Model,
    int? MinMemoryMib,
    string? Region,
    string? ProviderId,
    string[]? Capabilities);

/// <summary>Validated allocation request.</summary>
public sealed record AllocationRequest(
    string Tenant, int Count, TimeSpan Lease, string? Model, int? MinMemoryMib, string? Region, string? ProviderId, IReadOnlyList<string> Capabilities);

/// <summary>One granted request: all its GPUs share the lease.</summary>
/// <param name="State">scheduled, active, released (ended early) or expired (lease ran out).</param>
public sealed record AllocationView(
    Guid Id, string Tenant, string State, DateTime StartsAt, DateTime EndsAt, DateTime? ReleasedAt, IReadOnlyList<AllocatedGpu> Gpus);

/// <param name="AllocationId">The row in the allocations table (one per GPU).</param>
public sealed record AllocatedGpu(string GpuId, Guid AllocationId, string ProviderId, string Model, string Region, int MemoryMib);
