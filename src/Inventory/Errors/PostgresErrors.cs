using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Pipeline.Inventory.Errors;

/// <summary>
/// SQLSTATE codes the inventory expects, and what they mean to a client when no store mapped them
/// more precisely (the database constraints are the last line of defence behind the validation).
/// </summary>
public static class PostgresErrors
{
    public const string UniqueViolation = "23505";
    public const string ForeignKeyViolation = "23503";
    public const string CheckViolation = "23514";
    public const string ExclusionViolation = "23P01";
    public const string StringTooLong = "22001";
    public const string NumericOutOfRange = "22003";

    public const string NoDoubleBookingConstraint = "allocations_no_double_booking";

    public static ProblemException? Describe(PostgresException error) => error.SqlState switch
    {
        ExclusionViolation => ProblemException.Conflict("GPU already allocated",
            "Another lease of the same GPU overlaps this one (constraint allocations_no_double_booking); nothing was allocated."),
        UniqueViolation => ProblemException.Conflict("Already exists",
            $"A record with the same key already exists (constraint {error.ConstraintName})."),
        ForeignKeyViolation => ProblemException.Conflict("Still referenced",
            $"The change would break a reference between records (constraint {error.ConstraintName})."),
        CheckViolation or StringTooLong or NumericOutOfRange =>
            new ProblemException(StatusCodes.Status400BadRequest, "Invalid request", error.MessageText, error.ColumnName),
        _ => null,
    };
}
