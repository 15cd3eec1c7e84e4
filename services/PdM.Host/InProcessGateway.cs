using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PdM.Authentication;
using PdM.Edge.Gateway;
using PdM.Edge.Gateway.Deployment;
using PdM.Registry.Signing;
using PdM.Security;

namespace PdM.Host;

/// <summary>
/// What a gateway hosted beside the registry (the all-in-one demo) gets without an operator: it trusts the registry's
/// own signing key, and it fetches artifacts with a short-lived <c>gateway</c> token for its site from the development
/// issuer. A separately deployed gateway is configured with both instead (Gateway:Deployment).
/// </summary>
internal static class InProcessGateway
{
    public static void Add(IServiceCollection services, bool registryInProcess)
    {
        if (registryInProcess)
        {
            services.AddOptions<DeploymentOptions>().PostConfigure<RegistrySigningKey>((options, key) =>
            {
                var pem = key.Signer.ExportPublicKeyPem();
                if (!options.TrustedPublicKeys.Contains(pem))
                {
                    options.TrustedPublicKeys.Add(pem);
                }
            });
        }

        services.RemoveAll<IRegistryAccessTokenSource>();
        services.AddSingleton<IRegistryAccessTokenSource, DevelopmentGatewayTokenSource>();
    }

    /// <summary>A development-issuer gateway token for this site when the issuer is on; else the configured token.</summary>
    private sealed class DevelopmentGatewayTokenSource(IServiceProvider services, IOptions<GatewayOptions> gateway, IOptions<DeploymentOptions> deployment)
        : IRegistryAccessTokenSource
    {
        private readonly ConfiguredRegistryAccessTokenSource _configured = new(deployment);

        public ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
        {
            if (services.GetService<DevelopmentTokenIssuer>() is { } issuer)
            {
                var g = gateway.Value;
                return ValueTask.FromResult<string?>(issuer.Issue(g.EffectiveGatewayId, [PdMRoles.Gateway], g.SiteId, TimeSpan.FromMinutes(10)));
            }

            return _configured.GetTokenAsync(cancellationToken);
        }
    }
}
