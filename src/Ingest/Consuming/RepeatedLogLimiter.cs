namespace Pipeline.Ingest.Consuming;

/// <summary>
/// Lets one log line per key through per interval and says how many were held back since. While a
/// broker is unreachable librdkafka reports a refused connection many times a second; operators
/// need to know it is happening, not read every attempt (the error metric still counts each one).
/// Thread-safe: librdkafka calls log and error handlers from its own threads.
/// </summary>
public sealed class RepeatedLogLimiter(TimeSpan interval, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<string, (DateTimeOffset LastWritten, int HeldBack)> _keys = new();

    /// <summary>True when this occurrence should be logged; <paramref name="heldBack"/> is how many were skipped before it.</summary>
    public bool ShouldLog(string key, out int heldBack)
    {
        var now = _clock.GetUtcNow();
        lock (_keys)
        {
            if (_keys.TryGetValue(key, out var entry) && now - entry.LastWritten < interval)
            {
                _keys[key] = entry with { HeldBack = entry.HeldBack + 1 };
                heldBack = 0;
                return false;
            }
            heldBack = entry.HeldBack;
            if (_keys.Count > 1024) _keys.Clear();  // keys are error codes and facilities; this only guards odd input
            _keys[key] = (now, 0);
            return true;
        }
    }
}
