using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Pipeline.Hosting;

/// <summary>
/// Reads typed settings from configuration and refuses bad ones with <see cref="InvalidSettingException"/>.
/// Every module reads its options through this so errors look the same everywhere.
/// </summary>
public static class Settings
{
    public static string RequiredString(IConfiguration config, string key)
    {
        var value = config[key];
        if (string.IsNullOrWhiteSpace(value))
            throw new InvalidSettingException(key, $"is required (set it in appsettings.json, as PIPELINE_{EnvName(key)} or as --{key}=...)");
        return value.Trim();
    }

    public static string OptionalString(IConfiguration config, string key, string fallback)
    {
        var value = config[key];
        return string.IsNullOrWhiteSpace(value) ? fallback : value.Trim();
    }

    public static int Int(IConfiguration config, string key, int fallback, int min, int max)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new InvalidSettingException(key, $"'{raw}' is not a whole number");
        if (value < min || value > max)
            throw new InvalidSettingException(key, $"{value} is outside the allowed range {min}..{max}");
        return value;
    }

    public static long Long(IConfiguration config, string key, long fallback, long min, long max)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new InvalidSettingException(key, $"'{raw}' is not a whole number");
        if (value < min || value > max)
            throw new InvalidSettingException(key, $"{value} is outside the allowed range {min}..{max}");
        return value;
    }

    public static bool Bool(IConfiguration config, string key, bool fallback)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        return bool.TryParse(raw, out var value)
            ? value
            : throw new InvalidSettingException(key, $"'{raw}' is not true or false");
    }

    /// <summary>Durations are written as TimeSpan ("00:00:05") or with a unit: 250ms, 5s, 10m, 2h, 30d.</summary>
    public static TimeSpan Duration(IConfiguration config, string key, TimeSpan fallback, TimeSpan min, TimeSpan max)
    {
        var raw = config[key];
        if (string.IsNullOrWhiteSpace(raw)) return fallback;
        var value = ParseDuration(raw.Trim())
            ?? throw new InvalidSettingException(key, $"'{raw}' is not a duration (examples: 250ms, 5s, 10m, 2h, 30d, 00:00:05)");
        if (value < min || value > max)
            throw new InvalidSettingException(key, $"{raw} is outside the allowed range {min}..{max}");
        return value;
    }

    private static TimeSpan? ParseDuration(string raw)
    {
        // "ms" before "m" and "s", so 250ms is milliseconds.
        (string suffix, double scaleMs)[] units = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];
        foreach (var (suffix, scaleMs) in units)
        {
            if (raw.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(raw[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                && n >= 0)
                return TimeSpan.FromMilliseconds(n * scaleMs);
        }
        return TimeSpan.TryParse(raw, CultureInfo.InvariantCulture, out var ts) ? ts : null;
    }

    private static string EnvName(string key) => key.Replace(":", "__", StringComparison.Ordinal);
}
