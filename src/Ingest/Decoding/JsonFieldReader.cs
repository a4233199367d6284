using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Reads one field value at the reader's current token and checks it. Each method either returns
/// true with the value, or records why not in the <see cref="ElementProblem"/> and returns false.
/// A container in the wrong place is left for the caller to skip.
/// </summary>
internal static class JsonFieldReader
{
    private const int MaxDescribedBytes = 64;

    public static bool TryReadDouble(ref Utf8JsonReader reader, string field, double min, double max, out double value, ref ElementProblem problem)
    {
        value = 0;
        if (reader.TokenType == JsonTokenType.Number)
        {
            // 1e999 overflows to infinity (or the reader refuses it, depending on the runtime).
            if (!TryParsePlainDecimal(reader.ValueSpan, out value) && (!reader.TryGetDouble(out value) || !double.IsFinite(value)))
                return problem.Set(RejectionReason.NotFinite, $"{field} is {Describe(ref reader)}, which is not a finite number");
            return value >= min && value <= max
                || problem.Set(RejectionReason.OutOfRange, $"{field} is {Describe(ref reader)}; allowed {Format(min)}..{Format(max)}");
        }
        return NotANumber(ref reader, field, "a number", ref problem);
    }

    /// <summary>
    /// The common case of agent numbers, [-]digits[.digits] with at most 15 significant digits,
    /// parsed without the general parser and exactly as correctly: the digits form an
    /// integer below 2^53 and the divisor a power of ten up to 10^22, both exact doubles, so one
    /// IEEE division rounds correctly (Clinger's fast path). Anything else falls back.
    /// </summary>
    private static bool TryParsePlainDecimal(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        var negative = text.Length > 0 && text[0] == '-';
        long mantissa = 0;
        int digits = 0, fractionDigits = 0;
        var inFraction = false;
        for (var i = negative ? 1 : 0; i < text.Length; i++)
        {
            var c = text[i];
            if ((uint)(c - '0') <= 9)
            {
                if (mantissa != 0 || c != '0') digits++;
                if (digits > 15) return false;
                mantissa = mantissa * 10 + (c - '0');
                if (inFraction && ++fractionDigits >= PowersOfTen.Length) return false;
            }
            else if (c == '.' && !inFraction) inFraction = true;
            else return false; // exponent or anything unexpected: the general parser decides
        }
        value = mantissa / PowersOfTen[fractionDigits];
        if (negative) value = -value;
        return true;
    }

    private static readonly double[] PowersOfTen =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>Whole numbers; a zero fraction or exponent form (1024.0, 1e3) is accepted as the integer it denotes.</summary>
    public static bool TryReadInt64(ref Utf8JsonReader reader, string field, long min, long max, out long value, ref ElementProblem problem)
    {
        value = 0;
        if (reader.TokenType == JsonTokenType.Number)
        {
            if (!reader.TryGetInt64(out value))
            {
                if (!reader.TryGetDouble(out var real) || !double.IsFinite(real))
                    return problem.Set(RejectionReason.NotFinite, $"{field} is {Describe(ref reader)}, which is not a finite number");
                if (Math.Floor(real) != real)
                    return problem.Set(RejectionReason.WrongType, $"{field} is {Describe(ref reader)}; expected a whole number");
                // Beyond 2^53 a double no longer names one integer; nothing legitimate is that large.
                if (Math.Abs(real) > 9_007_199_254_740_992d)
                    return problem.Set(RejectionReason.OutOfRange, $"{field} is {Describe(ref reader)}; allowed {min}..{max}");
                value = (long)real;
            }
            return value >= min && value <= max
                || problem.Set(RejectionReason.OutOfRange, $"{field} is {Describe(ref reader)}; allowed {min}..{max}");
        }
        return NotANumber(ref reader, field, "a whole number", ref problem);
    }

    /// <summary>
    /// A string of 1..maxBytes UTF-8 bytes (after unescaping) without control characters, which
    /// PostgreSQL text cannot always hold (NUL) and no id or version needs.
    /// </summary>
    public static bool TryReadString(ref Utf8JsonReader reader, string field, int maxBytes, Utf8StringInterner interner, out string value, ref ElementProblem problem)
    {
        value = "";
        if (reader.TokenType != JsonTokenType.String)
            return problem.Set(RejectionReason.WrongType, $"{field} is {Describe(ref reader)}; expected a string");

        var raw = reader.ValueSpan;
        // An escape takes at most 6 bytes (\uXXXX) for one unescaped byte, so longer raw text is surely too long.
        if (raw.Length > maxBytes * 6)
            return problem.Set(RejectionReason.InvalidString, $"{field} is longer than {maxBytes} bytes");
        Span<byte> unescaped = stackalloc byte[reader.ValueIsEscaped ? raw.Length : 0];
        scoped ReadOnlySpan<byte> text = raw;
        if (reader.ValueIsEscaped)
        {
            if (!TryUnescape(in reader, unescaped, out var length))
                return problem.Set(RejectionReason.InvalidString, $"{field} is {Describe(ref reader)}, which escapes an invalid UTF-16 sequence");
            text = unescaped[..length];
        }

        if (text.Length == 0)
            return problem.Set(RejectionReason.InvalidString, $"{field} is empty");
        if (text.Length > maxBytes)
            return problem.Set(RejectionReason.InvalidString, $"{field} is {text.Length} bytes long; at most {maxBytes} allowed");
        foreach (var b in text)
        {
            if (b < 0x20 || b == 0x7F)
                return problem.Set(RejectionReason.InvalidString, $"{field} is {Describe(ref reader)}, which contains a control character");
        }
        value = interner.Intern(text);
        return true;
    }

    /// <summary>RFC 3339 with an offset, or whole (or fractional) Unix epoch milliseconds; checked against the rules' window.</summary>
    public static bool TryReadTimestamp(ref Utf8JsonReader reader, string field, ValidationRules rules, DateTimeOffset now, out DateTimeOffset value, ref ElementProblem problem)
    {
        value = default;
        if (reader.TokenType == JsonTokenType.String)
        {
            var raw = reader.ValueSpan;
            Span<byte> unescaped = stackalloc byte[reader.ValueIsEscaped && raw.Length <= 256 ? raw.Length : 0];
            scoped ReadOnlySpan<byte> text = raw;
            if (reader.ValueIsEscaped)
            {
                if (raw.Length > 256 || !TryUnescape(in reader, unescaped, out var length))
                    return problem.Set(RejectionReason.InvalidTimestamp, $"{field} is {Describe(ref reader)}; expected RFC 3339 with an offset or Unix epoch milliseconds");
                text = unescaped[..length];
            }
            if (!Rfc3339Timestamp.TryParseUtc(text, out value))
                return problem.Set(RejectionReason.InvalidTimestamp, $"{field} is {Describe(ref reader)}; expected RFC 3339 with an offset (2025-01-31T12:00:00.250Z) or Unix epoch milliseconds");
        }
        else if (reader.TokenType == JsonTokenType.Number)
        {
            if (!TryReadEpochMilliseconds(ref reader, out value))
                return problem.Set(RejectionReason.InvalidTimestamp, $"{field} is {Describe(ref reader)}; epoch milliseconds must be between 0 and year 9999");
        }
        else
        {
            return problem.Set(RejectionReason.WrongType, $"{field} is {Describe(ref reader)}; expected an RFC 3339 string or Unix epoch milliseconds");
        }

        // PostgreSQL keeps microseconds; truncating here makes (gpu_id, ts) equal exactly when the stored rows are.
        value = new DateTimeOffset(value.UtcTicks - value.UtcTicks % 10, TimeSpan.Zero);
        if (value > now + rules.MaxFutureSkew)
            return problem.Set(RejectionReason.TimestampInFuture, $"{field} {value:O} is {Format(value - now)} ahead of the ingest clock; at most {Format(rules.MaxFutureSkew)} allowed");
        if (value < now - rules.Retention)
        {
            var hint = value.Year == 1970 ? " (epoch seconds sent where milliseconds are expected?)" : "";
            return problem.Set(RejectionReason.TimestampTooOld, $"{field} {value:O} is older than the retention window of {Format(rules.Retention)}{hint}");
        }
        return true;
    }

    /// <summary>Exact: whole milliseconds as Int64, fractional ones as decimal, never through a double.</summary>
    private static bool TryReadEpochMilliseconds(ref Utf8JsonReader reader, out DateTimeOffset value)
    {
        value = default;
        const long maxMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
        long ticks;
        if (reader.TryGetInt64(out var ms))
        {
            if (ms < 0 || ms > maxMs) return false;
            ticks = ms * TimeSpan.TicksPerMillisecond;
        }
        else if (reader.TryGetDecimal(out var fractionalMs))
        {
            if (fractionalMs < 0 || fractionalMs > maxMs) return false;
            ticks = (long)decimal.Truncate(fractionalMs * TimeSpan.TicksPerMillisecond);
        }
        else return false;
        value = new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + ticks, TimeSpan.Zero);
        return true;
    }

    /// <summary>Status strings map to the constants in <see cref="HeartbeatStatus"/>, so no string is allocated.</summary>
    public static bool TryReadStatus(ref Utf8JsonReader reader, string field, out string value, ref ElementProblem problem)
    {
        value = "";
        if (reader.TokenType != JsonTokenType.String)
            return problem.Set(RejectionReason.WrongType, $"{field} is {Describe(ref reader)}; expected one of healthy, degraded, unhealthy");
        if (reader.ValueTextEquals("healthy"u8)) value = HeartbeatStatus.Healthy;
        else if (reader.ValueTextEquals("degraded"u8)) value = HeartbeatStatus.Degraded;
        else if (reader.ValueTextEquals("unhealthy"u8)) value = HeartbeatStatus.Unhealthy;
        else return problem.Set(RejectionReason.InvalidStatus, $"{field} is {Describe(ref reader)}; expected one of healthy, degraded, unhealthy");
        return true;
    }

    /// <summary>The property name with escapes resolved, in <paramref name="buffer"/> when it had any; empty when it cannot be a known field.</summary>
    public static ReadOnlySpan<byte> PropertyName(in Utf8JsonReader reader, Span<byte> buffer)
    {
        if (!reader.ValueIsEscaped) return reader.ValueSpan;
        if (reader.ValueSpan.Length > buffer.Length || !TryUnescape(in reader, buffer, out var length)) return default;
        return buffer[..length];
    }

    /// <summary>The current value as a person would read it in a quarantine detail, cut to a sane length.</summary>
    public static string Describe(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject: return "an object";
            case JsonTokenType.StartArray: return "an array";
            case JsonTokenType.Null: return "null";
            case JsonTokenType.True: return "true";
            case JsonTokenType.False: return "false";
        }
        var raw = reader.ValueSpan;
        var shown = raw.Length > MaxDescribedBytes ? Encoding.UTF8.GetString(raw[..MaxDescribedBytes]) + "..." : Encoding.UTF8.GetString(raw);
        return reader.TokenType == JsonTokenType.String ? $"\"{shown}\"" : shown;
    }

    private static bool NotANumber(ref Utf8JsonReader reader, string field, string expected, ref ElementProblem problem)
    {
        if (reader.TokenType == JsonTokenType.String && IsNonFiniteWord(reader.ValueSpan))
            return problem.Set(RejectionReason.NotFinite, $"{field} is {Describe(ref reader)}; expected {expected}");
        return problem.Set(RejectionReason.WrongType, $"{field} is {Describe(ref reader)}; expected {expected}");
    }

    // What serializers emit for non-finite floats when told to: "NaN", "Infinity", "-Infinity", "inf".
    private static bool IsNonFiniteWord(ReadOnlySpan<byte> text)
    {
        if (text.Length > 0 && text[0] is (byte)'+' or (byte)'-') text = text[1..];
        return Ascii.EqualsIgnoreCase(text, "nan"u8) || Ascii.EqualsIgnoreCase(text, "infinity"u8) || Ascii.EqualsIgnoreCase(text, "inf"u8);
    }

    private static bool TryUnescape(in Utf8JsonReader reader, Span<byte> destination, out int length)
    {
        if (reader.ValueSpan.Length > destination.Length)
        {
            length = 0;
            return false;
        }
        try
        {
            length = reader.CopyString(destination);
            return true;
        }
        catch (InvalidOperationException)
        {
            // Escapes of unpaired surrogates (\ud800) cannot become UTF-8.
            length = 0;
            return false;
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Format(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{span.TotalDays:0.#} days"
        : span.TotalHours >= 1 ? $"{span.TotalHours:0.#} h"
        : span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min"
        : $"{span.TotalSeconds:0.###} s";
}
