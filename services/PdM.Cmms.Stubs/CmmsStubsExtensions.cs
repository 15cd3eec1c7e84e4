using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace PdM.Cmms.Stubs;

public static class CmmsStubsExtensions
{
    /// <summary>Registers the Maximo, SAP and webhook stubs (singletons, so tests can script faults and read records).</summary>
    public static IServiceCollection AddCmmsStubs(this IServiceCollection services, IConfiguration? configuration = null, Action<CmmsStubOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<CmmsStubOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(CmmsStubOptions.Section));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton<MaximoStub>();
        services.TryAddSingleton<SapStub>();
        services.TryAddSingleton<WebhookStub>();
        return services;
    }

    /// <summary>
    /// Maps the stubs at <c>/maximo/…</c>, <c>/sap/opu/odata/sap/API_MAINTNOTIFICATION/…</c> and <c>/webhook</c>
    /// (default tenant) and under <c>/t/{tenant}/…</c> (isolated tenants: own records, faults and credentials).
    /// </summary>
    public static IEndpointRouteBuilder MapCmmsStubs(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var maximo = endpoints.ServiceProvider.GetRequiredService<MaximoStub>();
        var sap = endpoints.ServiceProvider.GetRequiredService<SapStub>();
        var webhook = endpoints.ServiceProvider.GetRequiredService<WebhookStub>();
        // Fake external systems with their own credentials (API keys, CSRF, HMAC), not PdM APIs: no PdM policy applies.
        var stubs = endpoints.MapGroup("").AllowAnonymous();
        foreach (var prefix in new[] { "", "/t/{tenant}" })
        {
            maximo.Map(stubs, prefix);
            sap.Map(stubs, prefix);
            webhook.Map(stubs, prefix);
        }

        return endpoints;
    }
}
