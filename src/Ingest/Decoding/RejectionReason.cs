namespace Pipeline.Ingest.Decoding;

/// <summary>
/// The rejection codes, documented in docs/agent-protocol.md. They are stored in quarantine.reason
/// and used as metric labels, so they never change meaning; new ones may be added.
/// </summary>
public static class RejectionReason
{
    // The whole message.
    public const string EmptyValue = "empty_value";
    public const string ValueTooLarge = "value_too_large";
    public const string InvalidUtf8 = "invalid_utf8";
    public const string MalformedJson = "malformed_json";
    public const string NotAnObject = "not_an_object";
    public const string EmptyArray = "empty_array";

    // One sample (the whole message when it is a single object).
    public const string MissingField = "missing_field";
    public const string DuplicateField = "duplicate_field";
    public const string WrongType = "wrong_type";
    public const string NotFinite = "not_finite";
    public const string OutOfRange = "out_of_range";
    public const string MemoryUsedExceedsTotal = "memory_used_exceeds_total";
    public const string InvalidString = "invalid_string";
    public const string InvalidTimestamp = "invalid_timestamp";
    public const string TimestampInFuture = "timestamp_in_future";
    public const string TimestampTooOld = "timestamp_too_old";
    public const string InvalidStatus = "invalid_status";

    /// <summary>Every code, e.g. to create metric series up front.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        EmptyValue, ValueTooLarge, InvalidUtf8, MalformedJson, NotAnObject, EmptyArray,
        MissingField, DuplicateField, WrongType, NotFinite, OutOfRange, MemoryUsedExceedsTotal,
        InvalidString, InvalidTimestamp, TimestampInFuture, TimestampTooOld, InvalidStatus,
    ];
}
