using System.Text.Json;

namespace Pipeline.Inventory.Health;

public sealed record HealthCheckView(long Id, string GpuId, DateTime CheckedAt, string CheckName, bool Passed, JsonElement Details);

/// <summary>Body of POST /gpus/{id}/health-checks; checkedAt defaults to the server's time.</summary>
public sealed record HealthCheckInput(string? CheckName, bool? Passed, JsonElement? Details, DateTimeOffset? CheckedAt);

public sealed record VerificationView(long Id, string GpuId, DateTime VerifiedAt, string Verifier, string Result, JsonElement Evidence);

/// <summary>Body of POST /gpus/{id}/verifications; result is passed, failed or inconclusive.</summary>
public sealed record VerificationInput(string? Verifier, string? Result, JsonElement? Evidence, DateTimeOffset? VerifiedAt);

/// <summary>The operational status of one GPU and what it was derived from.</summary>
/// <param name="FailingChecks">Names of health checks whose latest result failed.</param>
public sealed record GpuStatusView(
    string GpuId,
    string Status,
    string AdminStatus,
    bool Allocated,
    DateTime? LastSeen,
    string? ReportedStatus,
    string? AgentVersion,
    string? DriverVersion,
    long? UptimeS,
    IReadOnlyList<string> FailingChecks,
    double OfflineAfterSeconds);
