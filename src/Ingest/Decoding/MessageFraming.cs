using System.Text.Json;
using System.Text.Unicode;

namespace Pipeline.Ingest.Decoding;

/// <summary>Reads one sample object; the reader is on its StartObject and is left on its EndObject.</summary>
internal interface ISampleReader<TSample>
{
    bool TryRead(ref Utf8JsonReader reader, DateTimeOffset now, out TSample sample, ref ElementProblem problem);
}

/// <summary>
/// The message-level half of decoding, shared by both topics: size, UTF-8 and JSON checks, and
/// the split of an array into elements that are accepted or rejected one by one.
/// </summary>
internal static class MessageFraming
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };

    public static void Decode<TSample>(ReadOnlySpan<byte> value, ValidationRules rules, ISampleReader<TSample> samples,
        List<TSample> accepted, List<Rejection> rejected)
    {
        if (value.Length > rules.MaxValueBytes)
        {
            // Refused before any parsing so a huge value costs no more than its length check.
            rejected.Add(new Rejection(null, RejectionReason.ValueTooLarge, $"value is {value.Length} bytes; at most {rules.MaxValueBytes} allowed"));
            return;
        }
        if (value is [0xEF, 0xBB, 0xBF, ..]) value = value[3..]; // a UTF-8 byte order mark
        if (value.Trim(" \t\r\n"u8).IsEmpty)
        {
            rejected.Add(new Rejection(null, RejectionReason.EmptyValue, value.IsEmpty ? "value is empty" : "value is only whitespace"));
            return;
        }
        // Utf8JsonReader does not check the bytes inside strings; this does, once, vectorised.
        if (!Utf8.IsValid(value))
        {
            rejected.Add(new Rejection(null, RejectionReason.InvalidUtf8, $"invalid UTF-8 at byte {FirstInvalidUtf8(value)}"));
            return;
        }

        var acceptedBefore = accepted.Count;
        var rejectedBefore = rejected.Count;
        var now = rules.Clock.GetUtcNow();
        try
        {
            var reader = new Utf8JsonReader(value, ReaderOptions);
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    ReadElement(ref reader, samples, now, null, accepted, rejected);
                    break;
                case JsonTokenType.StartArray:
                    var index = 0;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType == JsonTokenType.StartObject)
                            ReadElement(ref reader, samples, now, index, accepted, rejected);
                        else
                        {
                            rejected.Add(new Rejection(index, RejectionReason.NotAnObject, $"element {index} is {JsonFieldReader.Describe(ref reader)}; expected a sample object"));
                            reader.Skip();
                        }
                        index++;
                    }
                    if (index == 0)
                        rejected.Add(new Rejection(null, RejectionReason.EmptyArray, "the array holds no samples"));
                    break;
                default:
                    rejected.Add(new Rejection(null, RejectionReason.NotAnObject, $"value is {JsonFieldReader.Describe(ref reader)}; expected a sample object or an array of them"));
                    break;
            }
            // Anything but whitespace after the value throws here.
            while (reader.Read()) { }
        }
        catch (JsonException ex)
        {
            // A syntax error anywhere makes every element suspect: the message is rejected as a whole.
            accepted.RemoveRange(acceptedBefore, accepted.Count - acceptedBefore);
            rejected.RemoveRange(rejectedBefore, rejected.Count - rejectedBefore);
            rejected.Add(new Rejection(null, RejectionReason.MalformedJson, ex.Message));
        }
    }

    private static void ReadElement<TSample>(ref Utf8JsonReader reader, ISampleReader<TSample> samples, DateTimeOffset now, int? index,
        List<TSample> accepted, List<Rejection> rejected)
    {
        var problem = new ElementProblem();
        if (samples.TryRead(ref reader, now, out var sample, ref problem))
            accepted.Add(sample);
        else
            rejected.Add(new Rejection(index, problem.Reason!, problem.Detail!));
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> value)
    {
        var offset = 0;
        while (offset < value.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(value[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
                return offset;
            offset += consumed;
        }
        return offset;
    }
}
