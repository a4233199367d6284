using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Pipeline.Inventory.Auth;

/// <summary>Declares the bearer scheme in the OpenAPI document and marks the operations that need a token.</summary>
public static class OpenApiSecurity
{
    private const string SchemeId = "Bearer";

    public static void Add(OpenApiOptions options, bool requireAuthForReads)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A token from Inventory:Tokens. Writes need the admin role.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var policies = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (policies.Contains(AccessPolicies.Write) || (requireAuthForReads && policies.Contains(AccessPolicies.Read)))
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
            }
            return Task.CompletedTask;
        });
    }
}
