using Microsoft.Extensions.Logging;
using Pipeline.Ingest.Metrics;

namespace Pipeline.Ingest.Resilience;

/// <summary>
/// The one retry policy of the ingest: exponential backoff from 100 ms doubling up to
/// Ingest:RetryMaxDelay, with jitter so that several writers do not hammer a recovering database
/// in step. It retries database and network failures until they pass or the token is cancelled:
/// giving up would mean either losing data or crashing into the same wall after a restart. Any
/// other exception is a bug and propagates (the service then stops with a non-zero exit code).
/// </summary>
public sealed class RetryPolicy(TimeSpan maxDelay, IngestMetrics metrics, ILogger logger)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxDelay => maxDelay;

    public TimeSpan DelayFor(int attempt)
    {
        var exponential = FirstDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var capped = Math.Min(exponential, maxDelay.TotalMilliseconds);
        // Full jitter on the upper half: between 50% and 100% of the capped delay.
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() * 0.5));
    }

    /// <summary>Failures worth waiting out: the database or the network, not our own code.</summary>
    public static bool IsTransient(Exception ex) =>
        ex is Npgsql.NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException
        || (ex is OperationCanceledException && ex.InnerException is TimeoutException);

    /// <summary>Runs <paramref name="action"/> until it returns; each failure is counted, logged and followed by a backoff.</summary>
    public async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellation,
        Func<Exception, Task>? onFailure = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await action(cancellation);
            }
            catch (Exception ex) when (!cancellation.IsCancellationRequested && IsTransient(ex))
            {
                metrics.DatabaseErrors.WithLabels(operation).Inc();
                var delay = DelayFor(attempt);
                // The first failure is worth a warning; a long outage should not flood the log.
                var level = attempt is 0 or 10 || attempt % 50 == 0 ? LogLevel.Warning : LogLevel.Debug;
                logger.Log(level, ex, "{Operation} failed (attempt {Attempt}); retrying in {Delay:0} ms: {Error}",
                    operation, attempt + 1, delay.TotalMilliseconds, ex.Message);
                if (onFailure is not null) await onFailure(ex);
                metrics.Retries.WithLabels(operation).Inc();
                await Task.Delay(delay, cancellation);
            }
        }
    }
}
