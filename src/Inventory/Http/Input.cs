using System.Globalization;
using System.Text.Json;
using Pipeline.Inventory.Errors;

namespace Pipeline.Inventory.Http;

/// <summary>
/// Checks of client input that name the offending field. Every rule of the schema's CHECK
/// constraints is checked here first so the client gets a 400 naming the field rather than a
/// database error.
/// </summary>
public static class Input
{
    public static string Text(string? value, string field, int maxLength)
    {
        if (value is null) throw ProblemException.Invalid(field, $"'{field}' is required.");
        if (value.Length == 0 || value.Length > maxLength)
            throw ProblemException.Invalid(field, $"'{field}' must be 1 to {maxLength} characters long.");
        if (value.Any(char.IsControl))
            throw ProblemException.Invalid(field, $"'{field}' must not contain control characters.");
        return value;
    }

    public static string? OptionalText(string? value, string field, int maxLength) =>
        value is null ? null : Text(value, field, maxLength);

    public static string OneOf(string? value, string field, IReadOnlyCollection<string> allowed)
    {
        if (value is null || !allowed.Contains(value))
            throw ProblemException.Invalid(field, $"'{field}' must be one of: {string.Join(", ", allowed)}.");
        return value;
    }

    public static int Int(int? value, string field, int min, int max)
    {
        if (value is null) throw ProblemException.Invalid(field, $"'{field}' is required.");
        if (value < min || value > max) throw ProblemException.Invalid(field, $"'{field}' must be between {min} and {max}.");
        return value.Value;
    }

    /// <summary>A JSON object (capabilities, details, evidence); absent means {}.</summary>
    public static string JsonObject(JsonElement? value, string field)
    {
        if (value is null || value.Value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null) return "{}";
        if (value.Value.ValueKind != JsonValueKind.Object)
            throw ProblemException.Invalid(field, $"'{field}' must be a JSON object.");
        return value.Value.GetRawText();
    }

    /// <summary>A client-supplied event time: not more than five minutes ahead of the server clock.</summary>
    public static DateTime? EventTime(DateTimeOffset? value, string field)
    {
        if (value is null) return null;
        if (value.Value > DateTimeOffset.UtcNow.AddMinutes(5))
            throw ProblemException.Invalid(field, $"'{field}' lies in the future.");
        return value.Value.UtcDateTime;
    }

    public static int QueryInt(string? raw, string field, int fallback, int min, int max)
    {
        if (string.IsNullOrEmpty(raw)) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw ProblemException.Invalid(field, $"'{field}' must be a whole number between {min} and {max}.");
        return value;
    }

    /// <summary>A list's `limit` query parameter: Inventory:DefaultPageSize when absent, at most Inventory:MaxPageSize.</summary>
    public static int PageSize(string? raw, InventoryOptions options) =>
        QueryInt(raw, "limit", options.DefaultPageSize, 1, options.MaxPageSize);

    public static int? OptionalQueryInt(string? raw, string field, int min, int max) =>
        string.IsNullOrEmpty(raw) ? null : QueryInt(raw, field, 0, min, max);

    public static bool? QueryBool(string? raw, string field) => raw switch
    {
        null or "" => null,
        "true" => true,
        "false" => false,
        _ => throw ProblemException.Invalid(field, $"'{field}' must be true or false."),
    };

    public static string? QueryOneOf(string? raw, string field, IReadOnlyCollection<string> allowed) =>
        string.IsNullOrEmpty(raw) ? null : OneOf(raw, field, allowed);

    public static DateTime? QueryTime(string? raw, string field)
    {
        if (string.IsNullOrEmpty(raw)) return null;
        if (!DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            throw ProblemException.Invalid(field, $"'{field}' must be an ISO 8601 timestamp such as 2025-01-31T12:00:00Z.");
        return value.UtcDateTime;
    }

    /// <summary>A bucket width such as 30s, 5m, 1h or 1d.</summary>
    public static TimeSpan? QueryDuration(string? raw, string field)
    {
        if (string.IsNullOrEmpty(raw)) return null;
        (string Suffix, long Seconds)[] units = [("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        foreach (var (suffix, seconds) in units)
        {
            if (raw.EndsWith(suffix, StringComparison.Ordinal)
                && long.TryParse(raw.AsSpan(0, raw.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                && n > 0 && n <= 3650L * 86400 / seconds)
                return TimeSpan.FromSeconds(n * seconds);
        }
        throw ProblemException.Invalid(field, $"'{field}' must be a positive whole number with a unit s, m, h or d (for example 30s, 5m, 1h).");
    }
}
