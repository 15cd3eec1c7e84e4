using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using PdM.Authentication;

namespace PdM.Demo;

/// <summary>
/// The platform's HTTP API as the demo's people use it: a client on the host's own address carrying a token the
/// development issuer minted for one user and role set (what <c>pdm token</c> hands a user). The demo trainer and
/// the demo approver act only through it, so they exercise the same access control, validation and audit as a person.
/// </summary>
public sealed class DemoApi(IServer server, IServiceProvider services, IHttpClientFactory clients)
{
    public const string HttpClientName = "pdm-demo-api";

    public HttpClient As(string user, params string[] roles)
    {
        var issuer = services.GetService<DevelopmentTokenIssuer>()
            ?? throw new InvalidOperationException("The demo acts through the API with development-issuer tokens: leave Auth:DevelopmentIssuer on (the Demo environment turns it on).");
        var client = clients.CreateClient(HttpClientName);
        client.BaseAddress = BaseAddress();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", issuer.Issue(user, roles, lifetime: TimeSpan.FromMinutes(10)));
        return client;
    }

    /// <summary>The first address the server listens on; a wildcard host (in a container) is reached on loopback.</summary>
    private Uri BaseAddress()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the server has no address yet: call the API after the host started");
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal));
        if (uri.Host is "0.0.0.0" or "[::]" or "::")
        {
            uri.Host = "127.0.0.1";
        }

        return uri.Uri;
    }
}
