using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using Pipeline.Inventory.Errors;

namespace Pipeline.Inventory.Http;

/// <summary>
/// Keyset pagination position: the sort value and id of the last row served, plus the ordering it
/// belongs to. Opaque to clients (base64url JSON); the next page is "rows after (value, id) in this
/// order", so rows inserted meanwhile never shift a page and nothing is skipped or repeated.
/// </summary>
public sealed record PageCursor(string Ordering, string Value, string Id)
{
    public string Encode() =>
        Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Wire(Ordering, Value, Id), WireContext.Default.Wire));

    /// <summary>Decodes a cursor and checks it was made for <paramref name="ordering"/>; null input means the first page.</summary>
    public static PageCursor? Decode(string? raw, string ordering)
    {
        if (string.IsNullOrEmpty(raw)) return null;
        Wire? wire;
        try
        {
            wire = raw.Length <= 4096 ? JsonSerializer.Deserialize(Base64Url.DecodeFromChars(raw), WireContext.Default.Wire) : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            wire = null;
        }
        if (wire is not { O: not null, V: not null, I: not null })
            throw Invalid();
        if (wire.O != ordering)
            throw ProblemException.Invalid("cursor", $"The cursor belongs to ordering '{wire.O}', not '{ordering}'; keep sort and order the same while paging.");
        return new PageCursor(wire.O, wire.V, wire.I);
    }

    /// <summary>The sort value as a UTC timestamp, for lists ordered by time; a tampered value is a 400.</summary>
    public DateTime TimeValue() =>
        DateTime.TryParse(Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) && time.Kind == DateTimeKind.Utc
            ? time
            : throw Invalid();

    public static string FormatTime(DateTime time) => time.ToString("O", CultureInfo.InvariantCulture);

    public static ProblemException Invalid() =>
        ProblemException.Invalid("cursor", "The cursor is not one this API issued; start again without a cursor.");

    internal sealed record Wire(string? O, string? V, string? I);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(PageCursor.Wire))]
internal sealed partial class WireContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>One page of a list; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
