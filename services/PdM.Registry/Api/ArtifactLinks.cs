using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace PdM.Registry.Api;

/// <summary>Builds artifact URLs from <c>Registry:PublicBaseUrl</c>, else from the request that caused them.</summary>
public sealed class ArtifactLinks(IOptions<RegistryOptions> options)
{
    public string For(HttpRequest request, string sha256)
    {
        ArgumentNullException.ThrowIfNull(request);
        var configured = options.Value.PublicBaseUrl;
        var baseUrl = configured is not null ? configured.ToString().TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";
        return $"{baseUrl}/api/artifacts/{sha256}";
    }
}
