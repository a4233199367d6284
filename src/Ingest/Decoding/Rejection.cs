namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Why a message, or one element of an array message, was not accepted.
/// </summary>
/// <param name="ElementIndex">Position inside an array message; null when the whole message is rejected
/// (including a single-object message whose only sample is invalid).</param>
/// <param name="Reason">A stable snake_case code from <see cref="RejectionReason"/>, fit for a metric label.</param>
/// <param name="Detail">The field and value at fault, for the person fixing the agent.</param>
public readonly record struct Rejection(int? ElementIndex, string Reason, string Detail);
