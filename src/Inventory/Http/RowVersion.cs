using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Inventory.Http;

/// <summary>
/// Optimistic concurrency over the `version` column: GET answers ETag "N"; a write that sends
/// If-Match "N" only applies while the row is still at version N, otherwise 412.
/// </summary>
public static class RowVersion
{
    public static string ETag(long version) => $"\"{version.ToString(CultureInfo.InvariantCulture)}\"";

    public static void SetETag(HttpResponse response, long version) => response.Headers.ETag = ETag(version);

    /// <summary>
    /// The version the client expects: null when If-Match is absent or "*" (no precondition beyond
    /// existence). A weak or unparseable tag can never match a strong ETag, so it becomes -1 (always 412).
    /// </summary>
    public static long? ExpectedVersion(HttpRequest request)
    {
        string? header = request.Headers.IfMatch;
        if (string.IsNullOrWhiteSpace(header)) return null;
        var tags = header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (tags.Contains("*")) return null;
        foreach (var tag in tags)
        {
            if (tag.Length >= 3 && tag[0] == '"' && tag[^1] == '"'
                && long.TryParse(tag.AsSpan(1, tag.Length - 2), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
                return version;
        }
        return -1;
    }
}
