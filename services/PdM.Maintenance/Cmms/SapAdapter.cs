using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Cmms;

/// <summary>
/// SAP S/4HANA Plant Maintenance over OData V2 (INTEGRATIONS.md §2): a maintenance notification (API_MAINTNOTIFICATION)
/// with damage, object-part and cause catalog codes. Field lengths follow the service's published <c>$metadata</c>
/// (services/PdM.Cmms.Stubs/Contracts): <c>NotificationText</c> 40 (cut on a word boundary, the full title opens the long
/// text), <c>MaintNotifLongTextForEdit</c> 1333, <c>MaintNotifExtReferenceNumber</c> 20 upper case (a reference derived
/// from our key, <see cref="CmmsReference"/>, looked up before every create). CSRF token and session cookies are fetched
/// with <c>X-CSRF-Token: Fetch</c> and sent on every write; a <c>403</c> with <c>X-CSRF-Token: Required</c> fetches again
/// and retries once. A relative <c>Location</c> is resolved against the request's URI.
/// </summary>
public sealed class SapAdapter(HttpClient http, SiteOptions site, string siteId, MaintenanceTelemetry telemetry, TimeProvider clock) : ICmmsAdapter
{
    public const int NotificationTextLength = 40;
    public const int LongTextLength = 1333;
    public const int ExternalReferenceLength = 20;
    public const string CompletedPhase = "4";

    private readonly SapOptions _options = site.Cmms.Sap ?? throw new ArgumentException("the site has no SAP settings", nameof(site));
    private readonly FieldFitter _fit = new(telemetry, "sap");
    private volatile SapSession? _session;

    public string System => "sap";

    public bool CanReadStatus => true;

    public string ReferenceFor(string externalKey) => CmmsReference.Derive(externalKey, ExternalReferenceLength);

    public async Task<CmmsResult> UpsertAsync(CanonicalWorkOrder workOrder, CmmsRecordRef? known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workOrder);
        var creating = false;
        try
        {
            var record = known;
            if (record is null)
            {
                var lookup = await FindAsync(ReferenceFor(workOrder.ExternalKey), cancellationToken);
                if (!lookup.IsSuccess)
                {
                    return lookup;
                }

                record = lookup.Record;
            }

            creating = record is null;
            return record is null
                ? await CreateAsync(workOrder, cancellationToken)
                : await UpdateAsync(record, workOrder, cancellationToken);
        }
        catch (Exception exception) when (HttpResponses.IsTransport(exception) && !cancellationToken.IsCancellationRequested)
        {
            return HttpResponses.Transport("SAP", exception, creating);
        }
    }

    public async Task<CmmsResult> ReadAsync(CmmsRecordRef record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            using var request = Request(HttpMethod.Get, Url($"{EntitySet}('{record.RecordId}')", "$expand=to_Item"));
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await FailureAsync(response, cancellationToken);
            }

            var entity = Unwrap(await HttpResponses.JsonAsync(response, cancellationToken));
            var phase = entity?.String("NotifProcessingPhase") ?? "1";
            string? code = null;
            if (entity is { } e && e.TryGetProperty("to_Item", out var items) && items.TryGetProperty("results", out var results)
                && results.ValueKind == JsonValueKind.Array && results.GetArrayLength() > 0)
            {
                code = results[0].String("MaintNotificationDamageCode");
            }

            DateTimeOffset? closedAt = ParseDate(entity?.String("NotificationCompletionDate")) + ParseTime(entity?.String("CompletionTime"));
            return CmmsResult.Read(new CmmsRecordState($"phase {phase}", phase == CompletedPhase, code, closedAt));
        }
        catch (Exception exception) when (HttpResponses.IsTransport(exception) && !cancellationToken.IsCancellationRequested)
        {
            return HttpResponses.Transport("SAP", exception);
        }
    }

    private string Root => _options.BaseUrl!.AbsoluteUri.TrimEnd('/');

    private string EntitySet => $"{Root}/MaintenanceNotification";

    private async Task<CmmsResult> FindAsync(string reference, CancellationToken cancellationToken)
    {
        var filter = Uri.EscapeDataString($"MaintNotifExtReferenceNumber eq '{reference.Replace("'", "''", StringComparison.Ordinal)}'");
        using var request = Request(HttpMethod.Get, Url(EntitySet, $"$filter={filter}&$select=MaintenanceNotification,NotifProcessingPhase"));
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return await FailureAsync(response, cancellationToken);
        }

        var body = await HttpResponses.JsonAsync(response, cancellationToken);
        if (body is { } json && json.TryGetProperty("d", out var d) && d.TryGetProperty("results", out var results)
            && results.ValueKind == JsonValueKind.Array && results.GetArrayLength() > 0 && results[0].String("MaintenanceNotification") is { } id)
        {
            return CmmsResult.Done(new CmmsRecordRef(id, $"{EntitySet}('{id}')"), results[0].String("NotifProcessingPhase"), created: false);
        }

        return new CmmsResult(CmmsOutcome.Success);
    }

    private async Task<CmmsResult> CreateAsync(CanonicalWorkOrder w, CancellationToken cancellationToken)
    {
        var sap = w.Asset.CmmsRef.Sap!;
        var mode = SiteDirectory.FailureMode(site, w.Failure.Mode);
        var now = clock.GetUtcNow();
        var reference = ReferenceFor(w.ExternalKey);
        var body = new JsonObject
        {
            ["NotificationType"] = w.Kind == CasePolicy.WorkOrderKind ? _options.WorkOrderNotificationType : _options.RequestNotificationType,
            ["NotificationText"] = _fit.Words("NotificationText", WorkOrderText.Title(w), NotificationTextLength),
            ["MaintNotifLongTextForEdit"] = LongText(w, reference),
            ["TechnicalObject"] = sap.TechnicalObject,
            ["TechObjIsEquipOrFuncnlLoc"] = sap.Type,
            ["MaintPriority"] = Priority(w),
            ["ReportedByUser"] = _options.ReportedByUser,
            ["MalfunctionStartDate"] = Date(now.UtcDateTime.Date),
            ["MalfunctionStartTime"] = string.Create(CultureInfo.InvariantCulture, $"PT{now.UtcDateTime.Hour:00}H{now.UtcDateTime.Minute:00}M{now.UtcDateTime.Second:00}S"),
            ["MaintenanceObjectIsDown"] = false,
            ["RequiredEndDate"] = Date(w.Recommendation.LatestFinish.UtcDateTime),
            ["MaintNotifExtReferenceNumber"] = reference,
        };
        if (sap.Plant is not null)
        {
            body["MaintenancePlanningPlant"] = sap.Plant;
        }

        if (sap.WorkCenter is not null)
        {
            body["MainWorkCenter"] = sap.WorkCenter;
        }

        if (sap.PlannerGroup is not null)
        {
            body["MaintenancePlannerGroup"] = sap.PlannerGroup;
        }

        // Catalog codes carry the ISO 14224 mode (damage), the maintainable item (object part) and the cause.
        var registry = AssetFor(w);
        var item = new JsonObject();
        if (mode.DamageCodeGroup is not null)
        {
            item["MaintNotifDamageCodeGroup"] = mode.DamageCodeGroup;
            item["MaintNotificationDamageCode"] = mode.DamageCode ?? w.Failure.Mode;
        }

        if (registry?.Sap?.ObjectPartCodeGroup is { } partGroup && registry.Sap.ObjectPartCode is { } part)
        {
            item["MaintNotifObjPrtCodeGroup"] = partGroup;
            item["MaintNotifObjPrtCode"] = part;
        }

        if (mode.CauseCodeGroup is not null && mode.CauseCode is not null)
        {
            item["to_ItemCause"] = new JsonObject
            {
                ["results"] = new JsonArray(new JsonObject { ["MaintNotifCauseCodeGroup"] = mode.CauseCodeGroup, ["MaintNotificationCauseCode"] = mode.CauseCode }),
            };
        }

        if (item.Count > 0)
        {
            body["to_Item"] = new JsonObject { ["results"] = new JsonArray(item) };
        }

        using var response = await WriteAsync(HttpMethod.Post, Url(EntitySet), body, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created && !response.IsSuccessStatusCode)
        {
            return await FailureAsync(response, cancellationToken, creating: true);
        }

        var entity = Unwrap(await HttpResponses.JsonAsync(response, cancellationToken));
        var id = entity?.String("MaintenanceNotification");
        if (id is null)
        {
            return CmmsResult.Fail(CmmsOutcome.Rejected, "SAP answered 201 without a MaintenanceNotification number");
        }

        // RFC 9110 §10.2.2: a relative Location is relative to the request's URI.
        var url = response.Headers.Location is { } location
            ? HttpResponses.Resolve(response.RequestMessage!.RequestUri!, location.OriginalString).AbsoluteUri
            : $"{EntitySet}('{id}')";
        return CmmsResult.Done(new CmmsRecordRef(id, url), $"phase {entity?.String("NotifProcessingPhase") ?? "1"}", created: true);
    }

    private async Task<CmmsResult> UpdateAsync(CmmsRecordRef record, CanonicalWorkOrder w, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["NotificationText"] = _fit.Words("NotificationText", WorkOrderText.Title(w), NotificationTextLength),
            ["MaintNotifLongTextForEdit"] = LongText(w, ReferenceFor(w.ExternalKey)),
            ["MaintPriority"] = Priority(w),
            ["RequiredEndDate"] = Date(w.Recommendation.LatestFinish.UtcDateTime),
        };
        using var response = await WriteAsync(HttpMethod.Patch, Url($"{EntitySet}('{record.RecordId}')"), body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return await FailureAsync(response, cancellationToken);
        }

        return CmmsResult.Done(record, null, created: false);
    }

    /// <summary>A write with the session's CSRF token; one fresh fetch and one retry when the server says the token is required.</summary>
    private async Task<HttpResponseMessage> WriteAsync(HttpMethod method, string url, JsonObject body, CancellationToken cancellationToken)
    {
        var session = _session ?? await FetchTokenAsync(cancellationToken);
        var response = await SendWriteAsync(method, url, body, session, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Forbidden && IsCsrfChallenge(response))
        {
            response.Dispose();
            session = await FetchTokenAsync(cancellationToken);
            response = await SendWriteAsync(method, url, body, session, cancellationToken);
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendWriteAsync(HttpMethod method, string url, JsonObject body, SapSession? session, CancellationToken cancellationToken)
    {
        using var request = Request(method, url);
        request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        if (session is not null)
        {
            request.Headers.Add("X-CSRF-Token", session.Token);
        }

        if (method == HttpMethod.Patch)
        {
            request.Headers.IfMatch.Add(EntityTagHeaderValue.Any);
        }

        return await http.SendAsync(request, cancellationToken);
    }

    private async Task<SapSession?> FetchTokenAsync(CancellationToken cancellationToken)
    {
        _session = null;
        using var request = Request(HttpMethod.Get, Url($"{Root}/"));
        request.Headers.Add("X-CSRF-Token", "Fetch");
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode || !response.Headers.TryGetValues("X-CSRF-Token", out var tokens))
        {
            // The write that follows fails with the server's own reason (401, 5xx) and is mapped there.
            return null;
        }

        var cookies = new List<string>();
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                cookies.Add(setCookie.Split(';', 2)[0].Trim());
            }
        }

        var session = new SapSession(tokens.First(), string.Join("; ", cookies));
        _session = session;
        return session;
    }

    private static bool IsCsrfChallenge(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-CSRF-Token", out var values) && values.Any(v => v.Equals("Required", StringComparison.OrdinalIgnoreCase));

    private HttpRequestMessage Request(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.User}:{_options.Password}")));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_session is { Cookie.Length: > 0 } session)
        {
            request.Headers.Add("Cookie", session.Cookie);
        }

        return request;
    }

    private string Url(string path, string? query = null)
    {
        var parts = new List<string>(3);
        if (!string.IsNullOrEmpty(_options.Client))
        {
            parts.Add("sap-client=" + Uri.EscapeDataString(_options.Client));
        }

        if (query is not null)
        {
            parts.Add(query);
        }

        parts.Add("$format=json");
        return $"{path}?{string.Join('&', parts)}";
    }

    /// <summary>SAP's OData error body <c>{"error":{"code":…,"message":{"value":…}}}</c> in the operator's words.</summary>
    private async Task<CmmsResult> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken, bool creating = false)
    {
        var body = await HttpResponses.JsonAsync(response, cancellationToken);
        var reason = "no error body";
        string? code = null;
        if (body is { } json && json.TryGetProperty("error", out var error))
        {
            var message = error.TryGetProperty("message", out var m) ? (m.ValueKind == JsonValueKind.Object ? m.String("value") : m.GetString()) : null;
            code = error.String("code");
            reason = $"{code} {message}".Trim();
        }

        return HttpResponses.Failure("SAP", response, reason, $"Maintenance:Sites:{siteId}:Cmms:Sap:User/Password", clock, code, creating);
    }

    /// <summary>The full title (the short text may be cut) and the narrative, fitted to the long text's 1333 characters.</summary>
    private string LongText(CanonicalWorkOrder w, string reference) =>
        _fit.Lines("MaintNotifLongTextForEdit", $"{WorkOrderText.Title(w)}\n{WorkOrderText.Narrative(w, reference)}", LongTextLength, reference);

    private AssetOptions? AssetFor(CanonicalWorkOrder w)
    {
        foreach (var (id, asset) in site.Assets)
        {
            if (string.Equals(id, w.Asset.Id, StringComparison.OrdinalIgnoreCase))
            {
                return asset;
            }
        }

        return null;
    }

    private static JsonElement? Unwrap(JsonElement? body) =>
        body is { } json && json.ValueKind == JsonValueKind.Object && json.TryGetProperty("d", out var d) ? d : body;

    private static string Priority(CanonicalWorkOrder w) => w.Recommendation.Priority switch
    {
        "URGENT" => "1",
        "HIGH" => "2",
        "MEDIUM" => "3",
        _ => "4",
    };

    /// <summary>OData V2 <c>Edm.DateTime</c>: <c>/Date(milliseconds since 1970)/</c>.</summary>
    internal static string Date(DateTime utc) =>
        string.Create(CultureInfo.InvariantCulture, $"/Date({new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToUnixTimeMilliseconds()})/");

    internal static DateTimeOffset? ParseDate(string? value)
    {
        if (value is null || !value.StartsWith("/Date(", StringComparison.Ordinal))
        {
            return null;
        }

        var digits = value.AsSpan(6).TrimEnd(")/");
        var end = digits.IndexOfAny('+', '-');
        return long.TryParse(end > 0 ? digits[..end] : digits, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }

    /// <summary>OData V2 <c>Edm.Time</c> (<c>PT14H05M09S</c>) as a duration; zero when absent.</summary>
    internal static TimeSpan ParseTime(string? value)
    {
        var parts = value is { Length: > 2 } && value.StartsWith("PT", StringComparison.Ordinal) ? value[2..].Split('H', 'M', 'S') : [];
        return parts.Length == 4
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var h)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var m)
            && int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? new TimeSpan(h, m, s)
            : TimeSpan.Zero;
    }

    private sealed record SapSession(string Token, string Cookie);
}
