using System.Text.Json;

namespace Pipeline.Ingest.Decoding;

/// <summary>
/// The fields of one sample type: which names are known, which may be absent, and how each value
/// is read. Implemented by a struct that collects the values, so the walk is specialised per type
/// and allocates nothing.
/// </summary>
internal interface ISampleFields
{
    /// <summary>The field's bit (0 for an unknown name) and its name for messages.</summary>
    static abstract int Match(ReadOnlySpan<byte> name, out string text);

    /// <summary>Bits of the fields that may be absent or null.</summary>
    static abstract int Optional { get; }

    /// <summary>The required fields, in the order a missing one is reported.</summary>
    static abstract (int Field, string Name)[] Required { get; }

    /// <summary>Reads the non-null value at the reader's token; a container is left for the walk to skip.</summary>
    void Read(int field, string name, ref Utf8JsonReader reader, ref ElementProblem problem);
}

internal static class SampleFields
{
    /// <summary>
    /// Walks one sample object's properties into <paramref name="fields"/>: the reader is on its
    /// StartObject and is left on its EndObject. False, with the first problem recorded, when a
    /// field is duplicated, null or missing where required, or fails its own check.
    /// </summary>
    public static bool TryRead<TFields>(ref Utf8JsonReader reader, ref TFields fields, ref ElementProblem problem)
        where TFields : struct, ISampleFields
    {
        var seen = 0;
        Span<byte> nameBuffer = stackalloc byte[128];

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = TFields.Match(JsonFieldReader.PropertyName(in reader, nameBuffer), out var name);
            reader.Read();
            if (field == 0 || problem.Found)
            {
                reader.Skip(); // unknown fields, nested or not, are ignored for forward compatibility
                continue;
            }
            if ((seen & field) != 0)
            {
                problem.Set(RejectionReason.DuplicateField, $"{name} appears more than once");
                reader.Skip();
                continue;
            }
            seen |= field;
            if (reader.TokenType == JsonTokenType.Null)
            {
                // Optional fields may be null, meaning absent.
                if ((field & TFields.Optional) == 0) problem.Set(RejectionReason.MissingField, $"{name} is null");
                continue;
            }
            fields.Read(field, name, ref reader, ref problem);
            reader.Skip(); // a container where a value was expected
        }

        if (problem.Found) return false;
        foreach (var (field, name) in TFields.Required)
        {
            if ((seen & field) == 0) return problem.Set(RejectionReason.MissingField, $"{name} is missing");
        }
        return true;
    }
}
