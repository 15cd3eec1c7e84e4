using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace PdM.Registry.Artifacts;

/// <summary>
/// Artifact URLs for work no HTTP request caused (a trained package registered from the bus):
/// <c>Registry:PublicBaseUrl</c>, else the address this host listens on (a wildcard host read as localhost, which is
/// right for the all-in-one host whose gateway runs in the same process).
/// </summary>
public sealed class ArtifactAddresses(IOptions<RegistryOptions> options, IServiceProvider services)
{
    public string For(string sha256)
    {
        var configured = options.Value.PublicBaseUrl?.ToString();
        var baseUrl = (configured ?? ListeningAddress() ?? "http://localhost").TrimEnd('/');
        return $"{baseUrl}/api/artifacts/{sha256}";
    }

    private string? ListeningAddress()
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? addresses?.FirstOrDefault();
        if (first is null)
        {
            return null;
        }

        foreach (var wildcard in (string[])["://+:", "://*:", "://[::]:", "://0.0.0.0:"])
        {
            first = first.Replace(wildcard, "://localhost:", StringComparison.Ordinal);
        }

        return first;
    }
}
