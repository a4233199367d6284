using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Ingest.Decoding;

/// <summary>
/// Returns one string instance per distinct UTF-8 byte sequence, so the same gpu_id arriving in a
/// million samples costs one allocation instead of a million. Bounded: when full it starts over,
/// which keeps memory flat if ids churn and costs little when they do not. Not thread-safe; each
/// decoder owns one.
/// </summary>
internal sealed class Utf8StringInterner
{
    private readonly Dictionary<byte[], string> _strings;
    private readonly Dictionary<byte[], string>.AlternateLookup<ReadOnlySpan<byte>> _byBytes;
    private readonly int _capacity;
    private byte[] _lastBytes = [];
    private string _lastString = "";

    public Utf8StringInterner(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _strings = new Dictionary<byte[], string>(ByteSequenceComparer.Instance);
        _byBytes = _strings.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => _strings.Count;

    /// <param name="utf8">Valid UTF-8 (the decoder validates the whole message first); never empty.</param>
    public string Intern(ReadOnlySpan<byte> utf8)
    {
        // The samples of one array message nearly always repeat the previous id: skip the hashing.
        if (utf8.SequenceEqual(_lastBytes)) return _lastString;
        if (!_byBytes.TryGetValue(utf8, out var bytes, out var text))
        {
            if (_strings.Count >= _capacity) _strings.Clear();
            bytes = utf8.ToArray();
            text = Encoding.UTF8.GetString(utf8);
            _strings.Add(bytes, text);
        }
        _lastBytes = bytes;
        _lastString = text;
        return text;
    }

    private sealed class ByteSequenceComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static ByteSequenceComparer Instance { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        // HashCode is seeded per process, so crafted ids cannot be aimed at one bucket.
        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }
    }
}
