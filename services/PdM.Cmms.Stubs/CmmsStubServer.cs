using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PdM.Cmms.Stubs;

/// <summary>The stubs as their own Kestrel server on 127.0.0.1 — in a test, in the demo host, or standalone.</summary>
public sealed class CmmsStubServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CmmsStubServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary><c>http://127.0.0.1:port</c> (no trailing slash).</summary>
    public Uri BaseAddress { get; }

    public MaximoStub Maximo => _app.Services.GetRequiredService<MaximoStub>();

    public SapStub Sap => _app.Services.GetRequiredService<SapStub>();

    public WebhookStub Webhook => _app.Services.GetRequiredService<WebhookStub>();

    /// <summary>Maximo root for a tenant, as an adapter's BaseUrl: <c>http://127.0.0.1:port/t/{tenant}/maximo</c>.</summary>
    public Uri MaximoUrl(string tenant) => new($"{BaseAddress}t/{tenant}/maximo");

    /// <summary>SAP service root for a tenant: <c>…/t/{tenant}/sap/opu/odata/sap/API_MAINTNOTIFICATION</c>.</summary>
    public Uri SapUrl(string tenant) => new($"{BaseAddress}t/{tenant}{SapStub.ServicePath}");

    public Uri WebhookUrl(string tenant) => new($"{BaseAddress}t/{tenant}/webhook");

    public static async Task<CmmsStubServer> StartAsync(int port = 0, Action<CmmsStubOptions>? configure = null,
        Action<ILoggingBuilder>? logging = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.Services.AddCmmsStubs(builder.Configuration, configure);
        var app = builder.Build();
        app.MapCmmsStubs();
        await app.StartAsync(cancellationToken);
        var address = app.Urls.First().Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
        return new CmmsStubServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
