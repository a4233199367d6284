namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Parses RFC 3339 date-times straight from UTF-8: yyyy-mm-ddThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm).
/// The offset is required (a time without one is ambiguous). 't', 'z' and a space between date and
/// time are accepted, as RFC 3339 allows. Fraction digits beyond the 7th are read and dropped.
/// Leap seconds (:60) are refused: .NET cannot represent them.
/// </summary>
internal static class Rfc3339Timestamp
{
    public static bool TryParseUtc(ReadOnlySpan<byte> text, out DateTimeOffset utc)
    {
        utc = default;
        if (text.Length < 20
            || !TryDigits(text, 0, 4, out var year) || text[4] != '-'
            || !TryDigits(text, 5, 2, out var month) || text[7] != '-'
            || !TryDigits(text, 8, 2, out var day) || text[10] is not ((byte)'T' or (byte)'t' or (byte)' ')
            || !TryDigits(text, 11, 2, out var hour) || text[13] != ':'
            || !TryDigits(text, 14, 2, out var minute) || text[16] != ':'
            || !TryDigits(text, 17, 2, out var second))
            return false;

        var i = 19;
        long fractionTicks = 0;
        if (text[i] == '.')
        {
            i++;
            var start = i;
            long scale = TimeSpan.TicksPerSecond / 10;
            while (i < text.Length && IsDigit(text[i]))
            {
                fractionTicks += (text[i] - '0') * scale;
                scale /= 10;
                i++;
            }
            if (i == start) return false;
        }

        if (i >= text.Length) return false;
        long offsetTicks;
        if (text[i] is (byte)'Z' or (byte)'z')
        {
            offsetTicks = 0;
            i++;
        }
        else if (text[i] is (byte)'+' or (byte)'-')
        {
            var sign = text[i] == '-' ? -1 : 1;
            if (text.Length - i != 6 || !TryDigits(text, i + 1, 2, out var offsetHours) || text[i + 3] != ':'
                || !TryDigits(text, i + 4, 2, out var offsetMinutes) || offsetHours > 23 || offsetMinutes > 59)
                return false;
            offsetTicks = sign * (offsetHours * TimeSpan.TicksPerHour + offsetMinutes * TimeSpan.TicksPerMinute);
            i += 6;
        }
        else return false;

        if (i != text.Length
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
            return false;

        var utcTicks = new DateTime(year, month, day, hour, minute, second).Ticks + fractionTicks - offsetTicks;
        if (utcTicks < 0 || utcTicks > DateTime.MaxValue.Ticks) return false;
        utc = new DateTimeOffset(utcTicks, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!IsDigit(text[i])) return false;
            value = value * 10 + (text[i] - '0');
        }
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
