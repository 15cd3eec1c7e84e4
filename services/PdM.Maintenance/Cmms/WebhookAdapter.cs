using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Cmms;

/// <summary>
/// Any system that takes a webhook: the canonical JSON, signed <c>X-PdM-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;</c> with
/// HMAC-SHA256 over <c>"&lt;t&gt;.&lt;body&gt;"</c> so the receiver can check origin and reject replays. The receiver
/// deduplicates on <c>externalKey</c> (also sent as <c>Idempotency-Key</c>); every send is the full current state.
/// </summary>
public sealed class WebhookAdapter(HttpClient http, SiteOptions site, string siteId, TimeProvider clock) : ICmmsAdapter
{
    public const string SignatureHeader = "X-PdM-Signature";

    private readonly WebhookOptions _options = site.Cmms.Webhook ?? throw new ArgumentException("the site has no webhook settings", nameof(site));

    public string System => "webhook";

    public bool CanReadStatus => false;

    /// <summary>The receiver deduplicates on the full external key (also sent as <c>Idempotency-Key</c>).</summary>
    public string ReferenceFor(string externalKey) => externalKey;

    public async Task<CmmsResult> UpsertAsync(CanonicalWorkOrder workOrder, CmmsRecordRef? known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workOrder);
        var body = JsonSerializer.Serialize(workOrder, MaintenanceJsonContext.Default.CanonicalWorkOrder);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url);
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        request.Headers.Add(SignatureHeader, Sign(_options.Secret, timestamp, body));
        request.Headers.Add("X-PdM-Event", known is null ? "workorder.created" : "workorder.updated");
        request.Headers.Add("Idempotency-Key", workOrder.ExternalKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var reason = await response.Content.ReadAsStringAsync(cancellationToken);
                return HttpResponses.Failure("Webhook", response, HttpResponses.Clip(reason, 200), $"Maintenance:Sites:{siteId}:Cmms:Webhook:Secret", clock);
            }

            return CmmsResult.Done(known ?? new CmmsRecordRef(workOrder.ExternalKey, _options.Url!.ToString()), "delivered", created: known is null);
        }
        catch (Exception exception) when (HttpResponses.IsTransport(exception) && !cancellationToken.IsCancellationRequested)
        {
            return HttpResponses.Transport("Webhook", exception);
        }
    }

    public Task<CmmsResult> ReadAsync(CmmsRecordRef record, CancellationToken cancellationToken) =>
        Task.FromResult(CmmsResult.Fail(CmmsOutcome.Rejected, "a webhook receiver reports outcomes through POST /api/cases/{id}/outcome"));

    /// <summary><c>t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c>.</summary>
    public static string Sign(string secret, long timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var t = timestamp.ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
