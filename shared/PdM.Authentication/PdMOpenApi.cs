using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;
using PdM.Security;

namespace PdM.Authentication;

/// <summary>
/// The OpenAPI document of a host's HTTP API at <c>/openapi/v1.json</c>, generated from its endpoints: the bearer
/// scheme, and on every operation that names a PdM policy a security requirement listing the roles that policy admits
/// (OpenAPI 3.1 lets a non-OAuth requirement carry role names) plus <c>x-pdm-policy</c>. Anonymous operations carry no
/// requirement. <c>tests/PdM.Security.Tests</c> walks this document to attack every operation.
/// </summary>
public static class PdMOpenApi
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string BearerScheme = "bearer";
    public const string PolicyExtension = "x-pdm-policy";

    public static IServiceCollection AddPdMOpenApi(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "PdM";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "An access token of the configured OIDC issuer (docs/security.md); roles in the `roles` claim.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAllowAnonymous>().Any())
                {
                    return Task.CompletedTask;
                }

                var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
                if (policies.Count != 1 || !PdMPolicies.Roles.ContainsKey(policies[0]))
                {
                    return Task.CompletedTask; // EndpointPolicyGuard refuses such an endpoint at start anyway
                }

                operation.Security =
                [
                    new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [.. PdMPolicies.RolesFor(policies[0])],
                    },
                ];
                operation.Extensions ??= new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal);
                operation.Extensions[PolicyExtension] = new JsonNodeExtension(System.Text.Json.Nodes.JsonValue.Create(policies[0]));
                return Task.CompletedTask;
            });
        });
        return services;
    }

    /// <summary>Maps the document, anonymous: it describes the API, it grants nothing.</summary>
    public static IEndpointConventionBuilder MapPdMOpenApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
    }
}
