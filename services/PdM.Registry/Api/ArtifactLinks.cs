using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace PdM.Registry.Api;

/// <summary>Builds artifact URLs from <c>Registry:PublicBaseUrl</c>, else from the request that caused them.</summary>
public sealed class ArtifactLinks(IOptions<RegistryOptions> options)
{
    public string For(HttpRequest request, string sha256) => $"{BaseUrl(request)}/api/artifacts/{sha256}";

    /// <summary>Where a version's model card is served (HTML or JSON).</summary>
    public string CardFor(HttpRequest request, string name, string version) =>
        $"{BaseUrl(request)}/api/models/{Uri.EscapeDataString(name)}/versions/{Uri.EscapeDataString(version)}/card";

    private string BaseUrl(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var configured = options.Value.PublicBaseUrl;
        return configured is not null ? configured.ToString().TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";
    }
}
