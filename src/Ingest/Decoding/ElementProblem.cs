namespace Pipeline.Ingest.Decoding;

/// <summary>The first thing wrong with one sample; later problems in the same sample are not reported.</summary>
internal struct ElementProblem
{
    public string? Reason;
    public string? Detail;

    public readonly bool Found => Reason is not null;

    /// <summary>Records the problem unless one is already recorded; always false so readers can return it.</summary>
    public bool Set(string reason, string detail)
    {
        if (Reason is null)
        {
            Reason = reason;
            Detail = detail;
        }
        return false;
    }
}
