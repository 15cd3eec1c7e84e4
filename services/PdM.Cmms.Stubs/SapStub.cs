using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdM.Cmms.Stubs.Contracts;

namespace PdM.Cmms.Stubs;

/// <summary>One SAP maintenance notification as the stub stores it.</summary>
public sealed class SapNotification : StubRecord
{
    public required string Number { get; init; }

    public string? Field(string name)
    {
        lock (this)
        {
            return StubJson.Text(Fields[name]);
        }
    }

    /// <summary>The notification's items (deep-inserted with it), each with its causes under <c>to_ItemCause</c>.</summary>
    public IReadOnlyList<JsonObject> Items
    {
        get
        {
            lock (this)
            {
                return Fields["to_Item"]?["results"] is JsonArray items ? items.OfType<JsonObject>().Select(i => (JsonObject)i.DeepClone()).ToList() : [];
            }
        }
    }
}

/// <summary>One isolated SAP system (tenant): credentials, client, CSRF sessions, notifications, faults, request count.</summary>
public sealed class SapTenant(string user, string password, string client, StubLinkStyle links)
{
    private readonly ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);
    private int _requests;
    private int _tokenFetches;
    private int _rejected;
    private int _nextNumber = 10000000;

    public string User { get; set; } = user;

    public string Password { get; set; } = password;

    public string Client { get; set; } = client;

    /// <summary>How <c>Location</c> and <c>__metadata.uri</c> are written (absolute, path-absolute or relative, RFC 9110 §10.2.2).</summary>
    public StubLinkStyle Links { get; set; } = links;

    public StubFaults Faults { get; } = new();

    /// <summary>The notification types this system's customizing defines (standard PM: M1, M2, M3); IT can add one.</summary>
    public ConcurrentDictionary<string, bool> NotificationTypes { get; } = new(new[] { "M1", "M2", "M3" }.ToDictionary(t => t, _ => true), StringComparer.Ordinal);

    public ConcurrentDictionary<string, SapNotification> Notifications { get; } = new(StringComparer.Ordinal);

    public int Requests => Volatile.Read(ref _requests);

    public int TokenFetches => Volatile.Read(ref _tokenFetches);

    /// <summary>Writes refused by the contract check (4xx with an OData error body).</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>Invalidates every CSRF token (as a session timeout does): the next write gets 403 + X-CSRF-Token: Required.</summary>
    public void ExpireTokens() => _sessions.Clear();

    /// <summary>
    /// A planner completes the notification (phase 4, completion date and time), having confirmed a damage code on its
    /// first item (e.g. BRG, or NFF for no fault found).
    /// </summary>
    public void Complete(string number, string? damageCode, DateTimeOffset? at = null)
    {
        var notification = Notifications[number];
        var when = at ?? DateTimeOffset.UtcNow;
        lock (notification)
        {
            notification.Fields["NotifProcessingPhase"] = SapStub.CompletedPhase;
            notification.Fields["NotificationCompletionDate"] = SapStub.Date(new DateTimeOffset(when.UtcDateTime.Date, TimeSpan.Zero));
            notification.Fields["CompletionTime"] = string.Create(CultureInfo.InvariantCulture, $"PT{when.UtcDateTime:HH}H{when.UtcDateTime:mm}M{when.UtcDateTime:ss}S");
            if (damageCode is not null)
            {
                var items = notification.Fields["to_Item"]?["results"] as JsonArray;
                if (items is null || items.Count == 0)
                {
                    items = [new JsonObject { ["MaintenanceNotification"] = number, ["MaintenanceNotificationItem"] = "0001" }];
                    notification.Fields["to_Item"] = new JsonObject { ["results"] = items };
                }

                items[0]!["MaintNotificationDamageCode"] = damageCode;
            }
        }
    }

    /// <summary>The damage code on the notification's first item (what the work order was raised with), if any.</summary>
    public string? DamageCode(string number)
    {
        var notification = Notifications[number];
        lock (notification)
        {
            return StubJson.Text((notification.Fields["to_Item"]?["results"] as JsonArray) is [{ } first, ..] ? first["MaintNotificationDamageCode"] : null);
        }
    }

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void CountRejected() => Interlocked.Increment(ref _rejected);

    internal string NextNumber() => Interlocked.Increment(ref _nextNumber).ToString(CultureInfo.InvariantCulture);

    internal string NewSession(string? existing)
    {
        Interlocked.Increment(ref _tokenFetches);
        var session = existing ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        _sessions[session] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        return session;
    }

    internal string? Token(string session) => _sessions.TryGetValue(session, out var token) ? token : null;
}

/// <summary>
/// A contract stub of SAP S/4HANA's API_MAINTNOTIFICATION (OData V2, INTEGRATIONS.md §2) that validates every write against
/// the service's published <c>$metadata</c> (Contracts/API_MAINTNOTIFICATION.edmx): unknown property, not creatable or not
/// updatable, too long, wrong Edm type, missing mandatory, deep insert of items and causes. Answers in SAP Gateway's error
/// shape. Emulates Basic auth, <c>sap-client</c>, CSRF token + session cookie (403 + <c>X-CSRF-Token: Required</c>),
/// <c>{"d":…}</c> wrapping, UpperCase input conversion, <c>$filter</c> on any property, 201 + Location, PATCH with If-Match.
/// </summary>
public sealed partial class SapStub(IOptions<CmmsStubOptions> options, ILogger<SapStub> logger)
{
    public const string CompletedPhase = "4";
    public const string ServicePath = "/sap/opu/odata/sap/API_MAINTNOTIFICATION";
    public const string EntitySet = "MaintenanceNotification";

    private static readonly Lazy<ODataV2Metadata> Contract = new(() => ODataV2Metadata.Load(ContractFile.Text(ContractFile.SapMaintenanceNotification)));

    private readonly ConcurrentDictionary<string, SapTenant> _tenants = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The service's <c>$metadata</c> as the stub enforces it.</summary>
    public static ODataV2Metadata Metadata => Contract.Value;

    public SapTenant Tenant(string name = CmmsStubOptions.DefaultTenant) =>
        _tenants.GetOrAdd(name, _ => new SapTenant(options.Value.SapUser, options.Value.SapPassword, options.Value.SapClient, options.Value.Links));

    internal static string Date(DateTimeOffset value) => string.Create(CultureInfo.InvariantCulture, $"/Date({value.ToUnixTimeMilliseconds()})/");

    internal void Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var service = endpoints.MapGroup(prefix + ServicePath);
        service.MapMethods("/", ["GET", "HEAD"], ServiceDocument);
        service.MapMethods("/{resource}", ["GET", "HEAD"], Read);
        service.MapPost("/{resource}", Create);
        service.MapMethods("/{resource}", ["PATCH", "MERGE"], Update);

        var control = endpoints.MapGroup(prefix + "/_stub/sap");
        StubFaults.MapFaultsEndpoint(control, context => Tenant(StubJson.Tenant(context)).Faults);
        control.MapPost("/expire-tokens", (HttpContext context) =>
        {
            Tenant(StubJson.Tenant(context)).ExpireTokens();
            return Results.NoContent();
        });
        control.MapPost("/notifications/{number}/complete", (HttpContext context, string number, string? damageCode) =>
        {
            Tenant(StubJson.Tenant(context)).Complete(number, damageCode);
            return Results.NoContent();
        });
        control.MapGet("/notifications", (HttpContext context) =>
            Results.Text(new JsonArray(Tenant(StubJson.Tenant(context)).Notifications.Values.Select(n => (JsonNode)Snapshot(n)).ToArray()).ToJsonString(), "application/json"));
    }

    private async Task ServiceDocument(HttpContext context)
    {
        if (await PreflightAsync(context, isWrite: false) is null)
        {
            return;
        }

        await StubJson.WriteAsync(context, 200, new JsonObject { ["d"] = new JsonObject { ["EntitySets"] = new JsonArray(Metadata.EntitySets.Keys.Select(k => (JsonNode)k).ToArray()) } });
    }

    private async Task Read(HttpContext context, string resource)
    {
        var tenant = await PreflightAsync(context, isWrite: false);
        if (tenant is null)
        {
            return;
        }

        if (resource == "$metadata")
        {
            context.Response.ContentType = "application/xml";
            await context.Response.WriteAsync(Metadata.Document, Encoding.UTF8);
            return;
        }

        var (entity, key) = ParseResource(resource);
        if (entity != EntitySet)
        {
            await ErrorAsync(context, 404, "/IWBEP/CM_MGW_RT/021", $"Resource not found for segment '{resource}'.");
            return;
        }

        var expand = context.Request.Query["$expand"].ToString();
        if (key is not null)
        {
            if (!tenant.Notifications.TryGetValue(key, out var one))
            {
                await ErrorAsync(context, 404, "/IWBEP/CM_MGW_RT/021", $"Maintenance notification {key} does not exist.");
                return;
            }

            await StubJson.WriteAsync(context, 200, new JsonObject { ["d"] = Project(context, tenant, one, expand) });
            return;
        }

        var filter = context.Request.Query["$filter"].ToString();
        var match = FilterPattern().Match(filter);
        if (filter.Length > 0 && (!match.Success || !Metadata.EntitySets[EntitySet].Properties.ContainsKey(match.Groups[1].Value)))
        {
            await ErrorAsync(context, 400, "/IWBEP/CM_MGW_RT/004", $"Invalid filter expression: '{filter}'.");
            return;
        }

        var results = new JsonArray();
        foreach (var notification in tenant.Notifications.Values.OrderBy(n => n.Number, StringComparer.Ordinal))
        {
            // Exact comparison, as on the database: a value stored upper-cased is not found by its lower-case spelling.
            if (!match.Success || notification.Field(match.Groups[1].Value) == match.Groups[2].Value.Replace("''", "'", StringComparison.Ordinal))
            {
                results.Add(Project(context, tenant, notification, expand));
            }
        }

        await StubJson.WriteAsync(context, 200, new JsonObject { ["d"] = new JsonObject { ["results"] = results } });
    }

    private async Task Create(HttpContext context, string resource)
    {
        var tenant = await PreflightAsync(context, isWrite: true);
        if (tenant is null)
        {
            return;
        }

        if (resource == "CompleteMaintNotification")
        {
            await CompleteAsync(context, tenant);
            return;
        }

        var (entity, key) = ParseResource(resource);
        if (entity != EntitySet || key is not null)
        {
            await ErrorAsync(context, 405, "/IWBEP/CM_MGW_RT/018", $"Method POST is not allowed on '{resource}'.");
            return;
        }

        var fault = tenant.Faults.Take(isWrite: true);
        if (await ApplyFaultAsync(context, fault))
        {
            return;
        }

        if (await ReadBodyAsync(context, tenant, creating: true) is not { } body)
        {
            return;
        }

        await StubFaults.HoldAsync(context, fault);
        body.Remove("__metadata");
        var number = tenant.NextNumber();
        body["MaintenanceNotification"] = number;
        body["NotifProcessingPhase"] = "1";
        body["CreationDate"] = Date(new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero));
        NumberItems(body, number);
        var notification = new SapNotification { Number = number, Fields = body };
        tenant.Notifications[number] = notification;
        var (type, technicalObject) = (notification.Field("NotificationType"), notification.Field("TechnicalObject"));
        var (reference, text) = (notification.Field("MaintNotifExtReferenceNumber"), notification.Field("NotificationText"));
        LogCreated(logger, number, type, technicalObject, reference, text);

        if (StubFaults.DropAfterAccept(context, fault))
        {
            return;
        }

        context.Response.Headers.Location = Link(context, tenant, $"{EntitySet}('{number}')");
        await StubJson.WriteAsync(context, 201, new JsonObject { ["d"] = Project(context, tenant, notification, "to_Item/to_ItemCause") });
    }

    private async Task Update(HttpContext context, string resource)
    {
        var tenant = await PreflightAsync(context, isWrite: true);
        if (tenant is null)
        {
            return;
        }

        var (entity, key) = ParseResource(resource);
        if (entity != EntitySet || key is null || !tenant.Notifications.TryGetValue(key, out var notification))
        {
            await ErrorAsync(context, 404, "/IWBEP/CM_MGW_RT/021", $"Resource not found for segment '{resource}'.");
            return;
        }

        if (context.Request.Headers.IfMatch.Count == 0)
        {
            await ErrorAsync(context, 428, "/IWBEP/CM_MGW_RT/025", "An If-Match header is required to update this entity.");
            return;
        }

        var fault = tenant.Faults.Take(isWrite: true);
        if (await ApplyFaultAsync(context, fault))
        {
            return;
        }

        if (await ReadBodyAsync(context, tenant, creating: false) is not { } body)
        {
            return;
        }

        await StubFaults.HoldAsync(context, fault);
        var changed = notification.ApplyUpdate(body);
        LogUpdated(logger, notification.Number, changed);
        if (StubFaults.DropAfterAccept(context, fault))
        {
            return;
        }

        context.Response.StatusCode = 204;
    }

    /// <summary>The <c>CompleteMaintNotification</c> action: <c>POST …/CompleteMaintNotification?MaintenanceNotification='…'</c>.</summary>
    private static async Task CompleteAsync(HttpContext context, SapTenant tenant)
    {
        var number = context.Request.Query["MaintenanceNotification"].ToString().Trim('\'');
        if (!tenant.Notifications.TryGetValue(number, out var notification))
        {
            await ErrorAsync(context, 404, "/IWBEP/CM_MGW_RT/021", $"Maintenance notification {number} does not exist.");
            return;
        }

        tenant.Complete(number, damageCode: null);
        await StubJson.WriteAsync(context, 200, new JsonObject { ["d"] = Project(context, tenant, notification, "") });
    }

    /// <summary>Basic auth, sap-client, CSRF (fetch on reads, check on writes) and scripted 429/503; null when answered.</summary>
    private async Task<SapTenant?> PreflightAsync(HttpContext context, bool isWrite)
    {
        var tenant = Tenant(StubJson.Tenant(context));
        tenant.CountRequest();
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{tenant.User}:{tenant.Password}"));
        if (context.Request.Headers.Authorization.ToString() != expected)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"SAP NetWeaver Application Server\"";
            await ErrorAsync(context, 401, "/IWFND/CM_CONSUMER/101", "Logon failed: user name or password is incorrect.");
            return null;
        }

        if (tenant.Client.Length > 0 && context.Request.Query["sap-client"] != tenant.Client)
        {
            await ErrorAsync(context, 401, "/IWFND/CM_CONSUMER/102", $"Logon failed: client '{context.Request.Query["sap-client"]}' does not exist (expected sap-client={tenant.Client}).");
            return null;
        }

        if (await ApplyFaultAsync(context, tenant.Faults.Take(isWrite: false)))
        {
            return null;
        }

        var cookieName = $"SAP_SESSIONID_PDM_{(tenant.Client.Length > 0 ? tenant.Client : "000")}";
        var session = context.Request.Cookies[cookieName];
        if (!isWrite)
        {
            if (string.Equals(context.Request.Headers["X-CSRF-Token"], "Fetch", StringComparison.OrdinalIgnoreCase))
            {
                var id = tenant.NewSession(session is not null && tenant.Token(session) is not null ? session : null);
                context.Response.Headers["X-CSRF-Token"] = tenant.Token(id);
                context.Response.Headers.Append("Set-Cookie", $"{cookieName}={id}; path=/; HttpOnly");
                context.Response.Headers.Append("Set-Cookie", $"sap-usercontext=sap-client={tenant.Client}; path=/");
            }

            return tenant;
        }

        var token = context.Request.Headers["X-CSRF-Token"].ToString();
        if (session is null || token.Length == 0 || tenant.Token(session) != token)
        {
            context.Response.Headers["X-CSRF-Token"] = "Required";
            await ErrorAsync(context, 403, "/IWFND/CM_BEC/026", "CSRF token validation failed");
            return null;
        }

        return tenant;
    }

    private static Task<bool> ApplyFaultAsync(HttpContext context, (StubFaultKind Kind, TimeSpan RetryAfter)? fault) =>
        StubFaults.AnswerAsync(
            context,
            fault,
            tooManyRequests: () => ErrorAsync(context, 429, "/IWFND/CM_BEC/429", "Too many requests; the API quota is exhausted."),
            unavailable: () => ErrorAsync(context, 503, "/IWFND/CM_BEC/503", "Service unavailable: the back-end system is not reachable."));

    /// <summary>
    /// The request body, normalised, when it is a JSON object the metadata and the tenant's customizing accept; otherwise
    /// answers the rejection and returns null.
    /// </summary>
    private async Task<JsonObject?> ReadBodyAsync(HttpContext context, SapTenant tenant, bool creating)
    {
        var body = await StubJson.ReadObjectAsync(context);
        var problem = body is null
            ? new ODataProblem("/IWBEP/CM_MGW_RT/020", "The request body is not a JSON object.")
            : (creating ? Metadata.ValidateCreate(EntitySet, body) : Metadata.ValidateUpdate(EntitySet, body)) ?? Customizing(tenant, body);
        if (problem is not null)
        {
            await RejectAsync(context, tenant, problem);
            return null;
        }

        Metadata.Normalise(EntitySet, body!);
        return body;
    }

    /// <summary>
    /// Checks SAP's customizing makes beyond the metadata, with the standard PM values (INTEGRATIONS.md §2): the tenant's
    /// notification types (M1/M2/M3 unless IT added one), technical object types EAMS_EQUI/EAMS_FL, priorities 1-4 of
    /// priority type PM.
    /// </summary>
    private static ODataProblem? Customizing(SapTenant tenant, JsonObject body)
    {
        if (body["NotificationType"] is { } type && !tenant.NotificationTypes.ContainsKey(StubJson.Text(type)?.ToUpperInvariant() ?? ""))
        {
            return new ODataProblem("IW/051", $"Notification type {type.ToJsonString()} is not defined.", "NotificationType");
        }

        if (body["TechObjIsEquipOrFuncnlLoc"] is { } objectType && StubJson.Text(objectType)?.ToUpperInvariant() is not ("EAMS_EQUI" or "EAMS_FL"))
        {
            return new ODataProblem("IW/052", "TechObjIsEquipOrFuncnlLoc must be EAMS_EQUI or EAMS_FL.", "TechObjIsEquipOrFuncnlLoc");
        }

        if (body["MaintPriority"] is { } priority && StubJson.Text(priority) is not ("1" or "2" or "3" or "4"))
        {
            return new ODataProblem("IW/053", $"Priority {priority.ToJsonString()} is not defined for priority type PM.", "MaintPriority");
        }

        return null;
    }

    /// <summary>Items and causes of a deep insert get the notification's number and consecutive item/cause numbers.</summary>
    private static void NumberItems(JsonObject body, string number)
    {
        var item = 0;
        foreach (var entry in (body["to_Item"]?["results"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var itemNumber = (++item).ToString("0000", CultureInfo.InvariantCulture);
            entry["MaintenanceNotification"] = number;
            entry["MaintenanceNotificationItem"] ??= itemNumber;
            var cause = 0;
            foreach (var causeEntry in (entry["to_ItemCause"]?["results"] as JsonArray ?? []).OfType<JsonObject>())
            {
                causeEntry["MaintenanceNotification"] = number;
                causeEntry["MaintenanceNotificationItem"] = entry["MaintenanceNotificationItem"]!.DeepClone();
                causeEntry["MaintenanceNotificationCause"] ??= (++cause).ToString("0000", CultureInfo.InvariantCulture);
            }
        }
    }

    private static JsonObject Snapshot(SapNotification notification)
    {
        lock (notification)
        {
            return (JsonObject)notification.Fields.DeepClone();
        }
    }

    private static JsonObject Project(HttpContext context, SapTenant tenant, SapNotification notification, string expand)
    {
        var result = Snapshot(notification);
        var uri = Link(context, tenant, $"{EntitySet}('{notification.Number}')");
        result["__metadata"] = new JsonObject { ["id"] = uri, ["uri"] = uri, ["type"] = "cds_api_maintnotification.MaintenanceNotificationType" };
        if (!expand.Contains("to_Item", StringComparison.Ordinal))
        {
            result["to_Item"] = new JsonObject { ["__deferred"] = new JsonObject { ["uri"] = uri + "/to_Item" } };
        }
        else if (result["to_Item"] is null)
        {
            result["to_Item"] = new JsonObject { ["results"] = new JsonArray() };
        }

        return result;
    }

    /// <summary>A link to an entity in the tenant's style: absolute URI, path-absolute, or relative to the service root.</summary>
    private static string Link(HttpContext context, SapTenant tenant, string entity) => tenant.Links switch
    {
        StubLinkStyle.Relative => entity,
        StubLinkStyle.PathAbsolute => $"{context.Request.PathBase}{Prefix(context)}{ServicePath}/{entity}",
        _ => $"{StubJson.Origin(context)}{context.Request.PathBase}{Prefix(context)}{ServicePath}/{entity}",
    };

    private static string Prefix(HttpContext context) =>
        context.Request.RouteValues["tenant"] is string tenant ? $"/t/{tenant}" : "";

    private static (string Entity, string? Key) ParseResource(string resource)
    {
        var open = resource.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return (resource, null);
        }

        var key = resource[(open + 1)..].TrimEnd(')').Trim('\'');
        return (resource[..open], key);
    }

    [GeneratedRegex("^\\s*(\\w+)\\s+eq\\s+'(.*)'\\s*$")]
    private static partial Regex FilterPattern();

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information,
        Message = "SAP stub: created notification {Number} ({Type}) for {TechnicalObject}, MaintNotifExtReferenceNumber {ExternalReference}: {Text}")]
    private static partial void LogCreated(ILogger logger, string number, string? type, string? technicalObject, string? externalReference, string? text);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "SAP stub: updated notification {Number} ({Fields})")]
    private static partial void LogUpdated(ILogger logger, string number, string fields);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Warning, Message = "SAP stub: refused a write against the API_MAINTNOTIFICATION metadata: {Code} {Message}")]
    private static partial void LogRejected(ILogger logger, string code, string message);

    private Task RejectAsync(HttpContext context, SapTenant tenant, ODataProblem problem)
    {
        tenant.CountRejected();
        LogRejected(logger, problem.Code, problem.Message);
        return ErrorAsync(context, 400, problem.Code, problem.Message, problem.Property);
    }

    /// <summary>SAP Gateway's OData V2 error body: <c>{"error":{"code","message":{"lang","value"},"innererror":{…}}}</c>.</summary>
    private static Task ErrorAsync(HttpContext context, int status, string code, string message, string? property = null)
    {
        var inner = new JsonObject
        {
            ["application"] = new JsonObject { ["component_id"] = "PM-WOC-MN", ["service_namespace"] = "/SAP/", ["service_id"] = "API_MAINTNOTIFICATION", ["service_version"] = "0001" },
            ["transactionid"] = Guid.NewGuid().ToString("N").ToUpperInvariant(),
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss.fffffff", CultureInfo.InvariantCulture),
            ["errordetails"] = new JsonArray(new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["propertyref"] = property is null ? "" : $"{EntitySet}/{property}",
                ["severity"] = "error",
                ["target"] = property ?? "",
            }),
        };
        return StubJson.WriteAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = new JsonObject { ["lang"] = "en", ["value"] = message },
                ["innererror"] = inner,
            },
        });
    }
}
