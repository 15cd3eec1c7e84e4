using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace PdM.Security;

public static class AuthorizationExtensions
{
    /// <summary>
    /// The <see cref="PdMPolicies"/> (each on <paramref name="scheme"/>), 403 answers that name the missing roles, and
    /// the <see cref="EndpointPolicyGuard"/>. Called by the authentication setup of a host, which owns the scheme.
    /// </summary>
    public static IServiceCollection AddPdMAuthorization(this IServiceCollection services, string scheme)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAuthorization(options =>
        {
            foreach (var (name, _) in PdMPolicies.Roles)
            {
                options.AddPolicy(name, policy => policy
                    .AddAuthenticationSchemes(scheme)
                    .RequireAuthenticatedUser()
                    .RequireRole(PdMPolicies.RolesFor(name)));
            }
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, PdMAuthorizationResultHandler>();
        services.AddHostedService<EndpointPolicyGuard>();
        return services;
    }
}
