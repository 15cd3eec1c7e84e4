using Microsoft.Extensions.Options;

namespace PdM.Edge.Gateway.Deployment;

/// <summary>
/// Where the bearer token for the registry's artifact endpoint comes from. The default reads configuration
/// (<c>Gateway:Deployment:RegistryAccessTokenFile</c>, else <c>RegistryAccessToken</c>); a host can register its
/// own (the all-in-one demo mints a <c>gateway</c> token from its development issuer). Asked once per download.
/// </summary>
public interface IRegistryAccessTokenSource
{
    /// <summary>The token, or null to download without one.</summary>
    ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken);
}

/// <summary>The token from configuration; the file is re-read every time so a rotated token needs no restart.</summary>
public sealed class ConfiguredRegistryAccessTokenSource(IOptions<DeploymentOptions> options) : IRegistryAccessTokenSource
{
    public async ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        if (value.RegistryAccessTokenFile is { Length: > 0 } file)
        {
            var token = (await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false)).Trim();
            return token.Length == 0 ? null : token;
        }

        return string.IsNullOrWhiteSpace(value.RegistryAccessToken) ? null : value.RegistryAccessToken.Trim();
    }
}
