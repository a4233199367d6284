using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Pipeline.Inventory.Errors;

/// <summary>
/// Turns the exceptions that describe a client's mistake into problem+json with the right status.
/// Anything else falls through to the default handler, which answers 500 (also as problem+json).
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, InventoryOptions options) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ProblemException p => p,
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => ProblemException.TooLarge(options.MaxRequestBodyBytes),
            BadHttpRequestException bad => new ProblemException(bad.StatusCode, "Bad request", bad.Message),
            PostgresException pg => PostgresErrors.Describe(pg),
            _ => null,
        };
        if (problem is null || context.Response.HasStarted) return false;

        context.Response.StatusCode = problem.Status;
        var details = new ProblemDetails { Status = problem.Status, Title = problem.Title, Detail = problem.Detail };
        if (problem.Field is { } field)
        {
            details.Extensions["field"] = field;
            details.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [problem.Detail] };
        }
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception });
    }
}
