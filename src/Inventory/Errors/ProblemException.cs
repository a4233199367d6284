using Microsoft.AspNetCore.Http;

namespace Pipeline.Inventory.Errors;

/// <summary>
/// A request that cannot be served, with what the client needs to fix it. Thrown anywhere below an
/// endpoint and written as RFC 7807 problem+json by <see cref="ProblemExceptionHandler"/>.
/// </summary>
public sealed class ProblemException(int status, string title, string detail, string? field = null) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string Detail { get; } = detail;

    /// <summary>The offending input (JSON property path, query parameter or header), when there is one.</summary>
    public string? Field { get; } = field;

    public static ProblemException Invalid(string field, string detail) =>
        new(StatusCodes.Status400BadRequest, "Invalid request", detail, field);

    public static ProblemException NotFound(string detail) =>
        new(StatusCodes.Status404NotFound, "Not found", detail);

    public static ProblemException Conflict(string title, string detail) =>
        new(StatusCodes.Status409Conflict, title, detail);

    public static ProblemException VersionMismatch(string detail) =>
        new(StatusCodes.Status412PreconditionFailed, "Version mismatch", detail, "If-Match");

    public static ProblemException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, "Request body too large",
            $"The request body is larger than the {limit} bytes this server accepts (Inventory:MaxRequestBodyBytes).");

    public static ProblemException UnsupportedMediaType(string? contentType) =>
        new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
            $"Send the body as application/json (got '{contentType ?? "no content type"}').", "Content-Type");
}
