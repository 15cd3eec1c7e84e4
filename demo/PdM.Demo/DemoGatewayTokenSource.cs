using Microsoft.Extensions.Options;
using PdM.Edge.Gateway;
using PdM.Edge.Gateway.Deployment;
using PdM.Authentication;
using PdM.Security;

namespace PdM.Demo;

/// <summary>
/// The in-process gateway's credential for artifact downloads: a short-lived <c>gateway</c> token for its site from the
/// development issuer, fresh for each download. A separately deployed gateway reads one a token agent keeps in a file
/// (Gateway:Deployment:RegistryAccessTokenFile).
/// </summary>
internal sealed class DemoGatewayTokenSource(IServiceProvider services, IOptions<GatewayOptions> gateway, IOptions<DeploymentOptions> deployment)
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
