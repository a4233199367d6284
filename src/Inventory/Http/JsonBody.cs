using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Inventory.Errors;

namespace Pipeline.Inventory.Http;

/// <summary>
/// Reads a JSON request body. Done by hand rather than by parameter binding so that malformed JSON
/// answers 400 naming the JSON path, and an oversized body 413, both as problem+json.
/// </summary>
public static class JsonBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellation) where T : class
    {
        if (!request.HasJsonContentType()) throw ProblemException.UnsupportedMediaType(request.ContentType);
        var json = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, json, cancellation)
                ?? throw ProblemException.Invalid("body", "The request body is JSON null; send an object.");
        }
        catch (JsonException ex)
        {
            var field = FieldName(ex.Path);
            throw ProblemException.Invalid(field, $"The request body is not valid JSON for this request at '{field}' (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}).");
        }
    }

    /// <summary>"$.items[2].memoryMib" becomes "items[2].memoryMib"; the root becomes "body".</summary>
    private static string FieldName(string? jsonPath) => jsonPath switch
    {
        null or "" or "$" => "body",
        _ when jsonPath.StartsWith("$.", StringComparison.Ordinal) => jsonPath[2..],
        _ when jsonPath.StartsWith('$') => jsonPath[1..],
        _ => jsonPath,
    };
}
