using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace PdM.Testing;

/// <summary>Where a started host under test listens: hosts bind <c>http://127.0.0.1:0</c>, so the port is known only after start.</summary>
public static class ListeningAddress
{
    /// <summary>The first address <paramref name="app"/> listens on, as the server reports it (<c>http://127.0.0.1:port</c>, no trailing slash).</summary>
    public static string Of(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }
}
