using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting;

namespace Pipeline.Inventory.Auth;

/// <summary>
/// A bearer token from configuration: Inventory:Tokens:&lt;name&gt;:Token and :Role (admin or readonly).
/// Only the SHA-256 of the token is kept, so comparisons run in constant time over equal-length values.
/// </summary>
public sealed record ApiToken(string Name, string Role, byte[] TokenHash)
{
    public const string AdminRole = "admin";
    public const string ReadOnlyRole = "readonly";
    private const int MinimumTokenLength = 16;

    public static IReadOnlyList<ApiToken> ReadAll(IConfiguration config)
    {
        var tokens = new List<ApiToken>();
        foreach (var entry in config.GetSection("Inventory:Tokens").GetChildren())
        {
            var tokenKey = $"Inventory:Tokens:{entry.Key}:Token";
            var roleKey = $"Inventory:Tokens:{entry.Key}:Role";
            var token = Settings.RequiredString(config, tokenKey);
            if (token.Length < MinimumTokenLength)
                throw new InvalidSettingException(tokenKey, $"must be at least {MinimumTokenLength} characters long");
            var role = Settings.RequiredString(config, roleKey);
            if (role is not (AdminRole or ReadOnlyRole))
                throw new InvalidSettingException(roleKey, $"'{role}' is not a role; use {AdminRole} or {ReadOnlyRole}");
            tokens.Add(new ApiToken(entry.Key, role, Hash(token)));
        }
        if (tokens.Select(t => Convert.ToHexString(t.TokenHash)).Distinct().Count() != tokens.Count)
            throw new InvalidSettingException("Inventory:Tokens", "two entries have the same token");
        return tokens;
    }

    /// <summary>The configured token equal to <paramref name="presented"/>, or null. Every entry is compared.</summary>
    public static ApiToken? Match(IReadOnlyList<ApiToken> tokens, string presented)
    {
        var hash = Hash(presented);
        ApiToken? found = null;
        foreach (var token in tokens)
            if (CryptographicOperations.FixedTimeEquals(token.TokenHash, hash)) found = token;
        return found;
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
