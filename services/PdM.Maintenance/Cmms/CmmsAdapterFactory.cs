using System.Collections.Concurrent;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Cmms;

/// <summary>
/// One adapter per site, kept for the life of the process (the SAP adapter holds its CSRF session). Each uses the named
/// HttpClient <see cref="HttpClientName"/> (cookies handled by the adapter, timeout from Maintenance:Delivery).
/// </summary>
public sealed class CmmsAdapterFactory(IHttpClientFactory httpClients, SiteDirectory sites, MaintenanceTelemetry telemetry, TimeProvider clock)
{
    public const string HttpClientName = "pdm-cmms";

    private readonly ConcurrentDictionary<string, ICmmsAdapter?> _adapters = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The breaker key of a site's adapter: one breaker per CMMS endpoint a site talks to.</summary>
    public static string EndpointKey(string siteId, CmmsAdapterKind kind) => $"{kind.ToString().ToLowerInvariant()}@{siteId}";

    public ICmmsAdapter? For(string siteId) => _adapters.GetOrAdd(siteId, Create);

    private ICmmsAdapter? Create(string siteId)
    {
        var site = sites.Site(siteId);
        if (site is null)
        {
            return null;
        }

        var http = httpClients.CreateClient(HttpClientName);
        return site.Cmms.Adapter switch
        {
            CmmsAdapterKind.Maximo => new MaximoAdapter(http, site, siteId, telemetry, clock),
            CmmsAdapterKind.Sap => new SapAdapter(http, site, siteId, telemetry, clock),
            CmmsAdapterKind.Webhook => new WebhookAdapter(http, site, siteId, clock),
            _ => null,
        };
    }
}
