namespace Pipeline.Inventory.Providers;

public sealed record ProviderView(string Id, string Name, string? Contact, int GpuCount, DateTime CreatedAt, DateTime UpdatedAt, long Version);

/// <summary>Body of POST /providers and PUT /providers/{id}.</summary>
public sealed record ProviderInput(string? Id, string? Name, string? Contact);
