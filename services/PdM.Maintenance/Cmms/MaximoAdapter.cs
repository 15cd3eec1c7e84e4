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
/// IBM Maximo (Manage / MAS) over its JSON REST API (INTEGRATIONS.md §1): <c>apikey</c> header, <c>lean=1</c>, service
/// request (MXAPISR) by default or work order (MXAPIWODETAIL, WAPPR) when the site allows, 201 + Location, update by POST
/// with <c>x-method-override: PATCH</c>, BMXAA errors mapped to words. Attributes and lengths follow the object structures'
/// published schemas (services/PdM.Cmms.Stubs/Contracts): <c>description</c> 100 (cut on a word boundary, the full title
/// opens the long description), our reference (<see cref="CmmsReference"/>, 10 characters) in <c>externalrefid</c> on a
/// work order and in <c>externalrecid</c> on a service request (TICKET has no externalrefid), looked up before every
/// create. Hrefs and <c>Location</c>, absolute or relative, are resolved against the Maximo root / the request's URI.
/// </summary>
public sealed class MaximoAdapter(HttpClient http, SiteOptions site, string siteId, MaintenanceTelemetry telemetry, TimeProvider clock) : ICmmsAdapter
{
    public const int DescriptionLength = 100;
    public const int LongDescriptionLength = 32000;
    public const int ExternalReferenceLength = 10;

    private readonly MaximoOptions _options = site.Cmms.Maximo ?? throw new ArgumentException("the site has no Maximo settings", nameof(site));
    private readonly FieldFitter _fit = new(telemetry, "maximo");

    private static readonly string[] ClosedStatuses = ["CLOSE", "COMP", "RESOLVED", "CLOSED", "CAN"];

    public string System => "maximo";

    public bool CanReadStatus => true;

    public string ReferenceFor(string externalKey) => CmmsReference.Derive(externalKey, ExternalReferenceLength);

    public async Task<CmmsResult> UpsertAsync(CanonicalWorkOrder workOrder, CmmsRecordRef? known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workOrder);
        var asWorkOrder = _options.CreateWorkOrders && workOrder.Kind == CasePolicy.WorkOrderKind;
        var objectStructure = asWorkOrder ? _options.WorkOrderObjectStructure : _options.ServiceRequestObjectStructure;
        var creating = false;
        try
        {
            var record = known;
            string? status = null;
            if (record is null)
            {
                var lookup = await FindAsync(objectStructure, asWorkOrder, ReferenceFor(workOrder.ExternalKey), cancellationToken);
                if (!lookup.IsSuccess)
                {
                    return lookup;
                }

                record = lookup.Record;
                status = lookup.Status;
            }

            if (record is not null)
            {
                return await UpdateAsync(record, asWorkOrder, workOrder, status, cancellationToken);
            }

            creating = true;
            return await CreateAsync(objectStructure, asWorkOrder, workOrder, cancellationToken);
        }
        catch (Exception exception) when (HttpResponses.IsTransport(exception) && !cancellationToken.IsCancellationRequested)
        {
            return HttpResponses.Transport("Maximo", exception, creating);
        }
    }

    public async Task<CmmsResult> ReadAsync(CmmsRecordRef record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            using var request = Request(HttpMethod.Get, $"{Resolve(record.Url)}?lean=1&oslc.select=status,statusdate,problemcode,failurecode");
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return await FailureAsync(response, cancellationToken);
            }

            var body = await HttpResponses.JsonAsync(response, cancellationToken);
            var status = body?.String("status") ?? "UNKNOWN";
            var closed = Array.IndexOf(ClosedStatuses, status.ToUpperInvariant()) >= 0;
            DateTimeOffset? closedAt = DateTimeOffset.TryParse(body?.String("statusdate"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
            return CmmsResult.Read(new CmmsRecordState(status, closed, body?.String("problemcode"), closedAt));
        }
        catch (Exception exception) when (HttpResponses.IsTransport(exception) && !cancellationToken.IsCancellationRequested)
        {
            return HttpResponses.Transport("Maximo", exception);
        }
    }

    private async Task<CmmsResult> FindAsync(string objectStructure, bool asWorkOrder, string reference, CancellationToken cancellationToken)
    {
        var where = Uri.EscapeDataString($"{ReferenceAttribute(asWorkOrder)}=\"{reference.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        var select = asWorkOrder ? "wonum,siteid,status,href" : "ticketid,siteid,status,href";
        using var request = Request(HttpMethod.Get, $"{Root}/api/os/{objectStructure}?lean=1&oslc.select={select}&oslc.where={where}");
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return await FailureAsync(response, cancellationToken);
        }

        var body = await HttpResponses.JsonAsync(response, cancellationToken);
        if (body is { } json && json.TryGetProperty("member", out var members) && members.ValueKind == JsonValueKind.Array && members.GetArrayLength() > 0)
        {
            var first = members[0];
            var href = first.String("href");
            var id = first.String(asWorkOrder ? "wonum" : "ticketid");
            if (href is not null && id is not null)
            {
                return CmmsResult.Done(new CmmsRecordRef(id, Resolve(href)), first.String("status"), created: false);
            }
        }

        return new CmmsResult(CmmsOutcome.Success);
    }

    private async Task<CmmsResult> CreateAsync(string objectStructure, bool asWorkOrder, CanonicalWorkOrder w, CancellationToken cancellationToken)
    {
        var maximo = w.Asset.CmmsRef.Maximo!;
        var reference = ReferenceFor(w.ExternalKey);
        var body = new JsonObject
        {
            ["siteid"] = maximo.SiteId,
            ["description"] = _fit.Words("description", WorkOrderText.Title(w), DescriptionLength),
            ["description_longdescription"] = LongDescription(w, reference),
            ["reportedby"] = _options.ReportedBy,
            [ReferenceAttribute(asWorkOrder)] = reference,
        };
        if (maximo.AssetNum is not null)
        {
            body["assetnum"] = maximo.AssetNum;
        }

        if (maximo.Location is not null)
        {
            body["location"] = maximo.Location;
        }

        if (asWorkOrder)
        {
            body["worktype"] = _options.WorkType;
            body["wopriority"] = CasePolicy.PriorityNumber(PriorityOf(w));
            body["targcompdate"] = Date(w.Recommendation.LatestFinish);
            body["problemcode"] = ProblemCode(w);
            if (maximo.FailureClass is not null)
            {
                body["failurecode"] = maximo.FailureClass;
            }
        }
        else
        {
            body["reportedpriority"] = CasePolicy.PriorityNumber(PriorityOf(w));
        }

        using var request = Request(HttpMethod.Post, $"{Root}/api/os/{objectStructure}?lean=1", body);
        request.Headers.Add("properties", asWorkOrder ? "wonum,workorderid,status,href" : "ticketid,ticketuid,status,href");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created && !response.IsSuccessStatusCode)
        {
            return await FailureAsync(response, cancellationToken, creating: true);
        }

        var created = await HttpResponses.JsonAsync(response, cancellationToken);
        // RFC 9110 §10.2.2: a relative Location is relative to the request's URI; a body href to the Maximo root.
        var href = response.Headers.Location is { } location
            ? HttpResponses.Resolve(response.RequestMessage!.RequestUri!, location.OriginalString).AbsoluteUri
            : created?.String("href") is { } bodyHref ? Resolve(bodyHref) : null;
        var id = created?.String(asWorkOrder ? "wonum" : "ticketid") ?? IdFromHref(href);
        if (href is null || id is null)
        {
            return CmmsResult.Fail(CmmsOutcome.Rejected, "Maximo answered 201 without a Location header or record id");
        }

        return CmmsResult.Done(new CmmsRecordRef(id, href), created?.String("status") ?? (asWorkOrder ? "WAPPR" : "NEW"), created: true);
    }

    private async Task<CmmsResult> UpdateAsync(CmmsRecordRef record, bool asWorkOrder, CanonicalWorkOrder w, string? status, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["description"] = _fit.Words("description", WorkOrderText.Title(w), DescriptionLength),
            ["description_longdescription"] = LongDescription(w, ReferenceFor(w.ExternalKey)),
        };
        if (asWorkOrder)
        {
            body["wopriority"] = CasePolicy.PriorityNumber(PriorityOf(w));
            body["targcompdate"] = Date(w.Recommendation.LatestFinish);
        }
        else
        {
            body["reportedpriority"] = CasePolicy.PriorityNumber(PriorityOf(w));
        }

        using var request = Request(HttpMethod.Post, $"{Resolve(record.Url)}?lean=1", body);
        request.Headers.Add("x-method-override", "PATCH");
        request.Headers.Add("patchtype", "MERGE");
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return await FailureAsync(response, cancellationToken);
        }

        return CmmsResult.Done(record, status, created: false);
    }

    private string Root => _options.BaseUrl!.AbsoluteUri.TrimEnd('/');

    /// <summary>An href as Maximo wrote it (absolute, <c>/maximo/…</c> or relative to the Maximo root) as an absolute URI.</summary>
    private string Resolve(string href) => HttpResponses.Resolve(HttpResponses.ServiceRoot(_options.BaseUrl!), href).AbsoluteUri;

    /// <summary>TICKET (service requests) has <c>externalrecid</c>; WORKORDER has <c>externalrefid</c>.</summary>
    private static string ReferenceAttribute(bool asWorkOrder) => asWorkOrder ? "externalrefid" : "externalrecid";

    private string LongDescription(CanonicalWorkOrder w, string reference) =>
        _fit.Lines("description_longdescription", $"{WorkOrderText.Title(w)}\n{WorkOrderText.Narrative(w, reference)}", LongDescriptionLength, reference);

    private HttpRequestMessage Request(HttpMethod method, string url, JsonObject? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("apikey", _options.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Maps Maximo's <c>{"Error":{"reasonCode":"BMXAA…","message":…}}</c> into the operator's words.</summary>
    private async Task<CmmsResult> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken, bool creating = false)
    {
        var body = await HttpResponses.JsonAsync(response, cancellationToken);
        var reason = "no error body";
        string? code = null;
        if (body is { } json && json.TryGetProperty("Error", out var error))
        {
            code = error.String("reasonCode");
            var message = error.String("message") ?? "";
            reason = code is not null && !message.StartsWith(code, StringComparison.Ordinal) ? $"{code} {message}" : message;
        }

        return HttpResponses.Failure("Maximo", response, reason, $"Maintenance:Sites:{siteId}:Cmms:Maximo:ApiKey", clock, code, creating);
    }

    private static WorkOrderPriority PriorityOf(CanonicalWorkOrder w) => w.Recommendation.Priority switch
    {
        "URGENT" => WorkOrderPriority.Urgent,
        "HIGH" => WorkOrderPriority.High,
        "MEDIUM" => WorkOrderPriority.Medium,
        _ => WorkOrderPriority.Low,
    };

    /// <summary>The problem code the site's catalogue gives the mode; the mode code itself when none.</summary>
    private string ProblemCode(CanonicalWorkOrder w) => SiteDirectory.FailureMode(site, w.Failure.Mode).ProblemCode ?? w.Failure.Mode;

    private static string Date(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    /// <summary>Maximo resource ids are "_" + base64("SITEID/NUMBER").</summary>
    private static string? IdFromHref(string? href)
    {
        var last = href?.TrimEnd('/').Split('/')[^1];
        if (last is null || last.Length < 2 || last[0] != '_')
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(last[1..]));
            return decoded.Split('/')[^1];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
