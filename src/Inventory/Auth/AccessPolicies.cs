using Microsoft.AspNetCore.Authorization;

namespace Pipeline.Inventory.Auth;

/// <summary>The two access levels endpoints ask for: reading (open unless configured) and writing (admin only).</summary>
public static class AccessPolicies
{
    public const string Read = "inventory-read";
    public const string Write = "inventory-write";

    public static void Add(AuthorizationOptions options, bool requireAuthForReads)
    {
        options.AddPolicy(Read, policy =>
        {
            if (requireAuthForReads) policy.RequireAuthenticatedUser();
            else policy.RequireAssertion(_ => true);
        });
        options.AddPolicy(Write, policy => policy.RequireRole(ApiToken.AdminRole));
    }
}
