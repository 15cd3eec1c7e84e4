using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PdM.Cmms.Stubs;

/// <summary>One SAP maintenance notification as the stub stores it.</summary>
public sealed class SapNotification
{
    public required string Number { get; init; }

    public required JsonObject Fields { get; init; }

    public int UpdateCount { get; set; }

    public string? Field(string name) => StubJson.Text(Fields[name]);
}

/// <summary>One isolated SAP system (tenant): credentials, client, CSRF sessions, notifications, faults, request count.</summary>
public sealed class SapTenant(string user, string password, string client)
{
    private readonly ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);
    private int _requests;
    private int _tokenFetches;
    private int _nextNumber = 10000000;

    public string User { get; set; } = user;

    public string Password { get; set; } = password;

    public string Client { get; set; } = client;

    public StubFaults Faults { get; } = new();

    public ConcurrentDictionary<string, SapNotification> Notifications { get; } = new(StringComparer.Ordinal);

    public int Requests => Volatile.Read(ref _requests);

    public int TokenFetches => Volatile.Read(ref _tokenFetches);

    /// <summary>Invalidates every CSRF token (as a session timeout does): the next write gets 403 + X-CSRF-Token: Required.</summary>
    public void ExpireTokens() => _sessions.Clear();

    /// <summary>A planner completes the notification (phase 4), confirming a damage code (e.g. BRG, or NFF for no fault found).</summary>
    public void Complete(string number, string? damageCode)
    {
        var notification = Notifications[number];
        lock (notification)
        {
            notification.Fields["NotifProcessingPhase"] = SapStub.CompletedPhase;
            notification.Fields["CompletionDate"] = SapStub.Date(DateTimeOffset.UtcNow);
            if (damageCode is not null)
            {
                var items = notification.Fields["to_Item"]?["results"] as JsonArray;
                if (items is null || items.Count == 0)
                {
                    items = [new JsonObject()];
                    notification.Fields["to_Item"] = new JsonObject { ["results"] = items };
                }

                items[0]!["MaintNotificationDamageCode"] = damageCode;
            }
        }
    }

    internal void CountRequest() => Interlocked.Increment(ref _requests);

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
/// A contract stub of SAP S/4HANA's API_MAINTNOTIFICATION (OData V2, INTEGRATIONS.md §2): Basic auth, <c>sap-client</c>,
/// CSRF token + session cookie (fetch with <c>X-CSRF-Token: Fetch</c>; a write without a valid pair gets 403 +
/// <c>X-CSRF-Token: Required</c>), <c>{"d":…}</c> wrapping, <c>/Date(ms)/</c> and <c>PT…</c> types, field lists and lengths
/// enforced (NotificationText ≤ 40), <c>$filter</c> on MaintNotifExtReferenceNumber, 201 + Location, PATCH with If-Match.
/// </summary>
public sealed partial class SapStub(IOptions<CmmsStubOptions> options, ILogger<SapStub> logger)
{
    public const string CompletedPhase = "4";
    public const string ServicePath = "/sap/opu/odata/sap/API_MAINTNOTIFICATION";
    private const string EntitySet = "MaintenanceNotification";

    private static readonly Dictionary<string, FieldSpec> HeaderFields = new(StringComparer.Ordinal)
    {
        ["NotificationType"] = FieldSpec.Text(4, required: true),
        ["NotificationText"] = FieldSpec.Text(40, required: true),
        ["MaintNotifLongTextForEdit"] = FieldSpec.Text(100_000),
        ["TechnicalObject"] = FieldSpec.Text(40, required: true),
        ["TechObjIsEquipOrFuncnlLoc"] = FieldSpec.Text(10, required: true),
        ["MaintPriority"] = FieldSpec.Text(1),
        ["MaintenancePlanningPlant"] = FieldSpec.Text(4),
        ["MaintenancePlannerGroup"] = FieldSpec.Text(3),
        ["MainWorkCenter"] = FieldSpec.Text(8),
        ["ReportedByUser"] = FieldSpec.Text(12),
        ["MalfunctionStartDate"] = FieldSpec.Date,
        ["MalfunctionStartTime"] = FieldSpec.Time,
        ["RequiredStartDate"] = FieldSpec.Date,
        ["RequiredEndDate"] = FieldSpec.Date,
        ["MaintenanceObjectIsDown"] = FieldSpec.Boolean,
        ["MaintNotifExtReferenceNumber"] = FieldSpec.Text(100),
    };

    private static readonly HashSet<string> Updatable = new(StringComparer.Ordinal)
    {
        "NotificationText", "MaintNotifLongTextForEdit", "MaintPriority", "RequiredStartDate", "RequiredEndDate", "MaintenanceObjectIsDown",
    };

    private static readonly Dictionary<string, FieldSpec> ItemFields = new(StringComparer.Ordinal)
    {
        ["MaintNotifDamageCodeGroup"] = FieldSpec.Text(8),
        ["MaintNotificationDamageCode"] = FieldSpec.Text(4),
        ["MaintNotifObjPrtCodeGroup"] = FieldSpec.Text(8),
        ["MaintNotifObjPrtCode"] = FieldSpec.Text(4),
    };

    private static readonly Dictionary<string, FieldSpec> CauseFields = new(StringComparer.Ordinal)
    {
        ["MaintNotifCauseCodeGroup"] = FieldSpec.Text(8),
        ["MaintNotificationCauseCode"] = FieldSpec.Text(4),
    };

    private readonly ConcurrentDictionary<string, SapTenant> _tenants = new(StringComparer.OrdinalIgnoreCase);

    public SapTenant Tenant(string name = CmmsStubOptions.DefaultTenant) =>
        _tenants.GetOrAdd(name, _ => new SapTenant(options.Value.SapUser, options.Value.SapPassword, options.Value.SapClient));

    internal static string Date(DateTimeOffset value) => string.Create(CultureInfo.InvariantCulture, $"/Date({value.ToUnixTimeMilliseconds()})/");

    internal void Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var service = endpoints.MapGroup(prefix + ServicePath);
        service.MapMethods("/", ["GET", "HEAD"], ServiceDocument);
        service.MapMethods("/{resource}", ["GET", "HEAD"], Read);
        service.MapPost("/{resource}", Create);
        service.MapMethods("/{resource}", ["PATCH", "MERGE"], Update);

        var control = endpoints.MapGroup(prefix + "/_stub/sap");
        control.MapPost("/faults", (HttpContext context, FaultRequest fault) =>
        {
            Tenant(StubJson.Tenant(context)).Faults.Enqueue(fault.Kind, fault.Count, TimeSpan.FromSeconds(fault.RetryAfterSeconds));
            return Results.NoContent();
        });
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
            Results.Text(new JsonArray(Tenant(StubJson.Tenant(context)).Notifications.Values.Select(n => (JsonNode)n.Fields.DeepClone()).ToArray()).ToJsonString(), "application/json"));
    }

    private async Task ServiceDocument(HttpContext context)
    {
        if (await PreflightAsync(context, isWrite: false) is null)
        {
            return;
        }

        await StubJson.WriteAsync(context, 200, new JsonObject { ["d"] = new JsonObject { ["EntitySets"] = new JsonArray(EntitySet) } });
    }

    private async Task Read(HttpContext context, string resource)
    {
        var tenant = await PreflightAsync(context, isWrite: false);
        if (tenant is null)
        {
            return;
        }

        var (entity, key) = ParseResource(resource);
        if (entity != EntitySet)
        {
            await ErrorAsync(context, 404, "/IWBEP/CM_MGW_RT/021", $"Resource not found for segment '{resource}'.");
            return;
        }

        var expandItems = context.Request.Query["$expand"].ToString().Contains("to_Item", StringComparison.Ordinal);
        if (key is not null)
        {
            if (!tenant.Notifications.TryGetValue(key, out var one))
            {
                await ErrorAsync(context, 404, "/IWBEP/CM_MGW_RT/021", $"Maintenance notification {key} does not exist.");
                return;
            }

            await StubJson.WriteAsync(context, 200, new JsonObject { ["d"] = Project(context, one, expandItems) });
            return;
        }

        var filter = context.Request.Query["$filter"].ToString();
        var match = FilterPattern().Match(filter);
        if (filter.Length > 0 && !match.Success)
        {
            await ErrorAsync(context, 400, "/IWBEP/CM_MGW_RT/004", $"Invalid filter expression: '{filter}'.");
            return;
        }

        var results = new JsonArray();
        foreach (var notification in tenant.Notifications.Values)
        {
            if (!match.Success || notification.Field(match.Groups[1].Value) == match.Groups[2].Value.Replace("''", "'", StringComparison.Ordinal))
            {
                results.Add(Project(context, notification, expandItems));
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

        var body = await StubJson.ReadObjectAsync(context);
        if (body is null)
        {
            await ErrorAsync(context, 400, "/IWBEP/CM_MGW_RT/020", "The request body is not a JSON object.");
            return;
        }

        if (Validate(body) is { } problem)
        {
            await ErrorAsync(context, 400, problem.Code, problem.Message);
            return;
        }

        var number = tenant.NextNumber();
        body["MaintenanceNotification"] = number;
        body["NotifProcessingPhase"] = "1";
        body["CreationDate"] = Date(DateTimeOffset.UtcNow);
        var notification = new SapNotification { Number = number, Fields = body };
        tenant.Notifications[number] = notification;
        var (type, technicalObject) = (notification.Field("NotificationType"), notification.Field("TechnicalObject"));
        var (reference, text) = (notification.Field("MaintNotifExtReferenceNumber"), notification.Field("NotificationText"));
        LogCreated(logger, number, type, technicalObject, reference, text);

        if (fault?.Kind == StubFaultKind.DropAfterAccept)
        {
            context.Abort();
            return;
        }

        context.Response.Headers.Location = $"{StubJson.Origin(context)}{context.Request.PathBase}{Prefix(context)}{ServicePath}/{EntitySet}('{number}')";
        await StubJson.WriteAsync(context, 201, new JsonObject { ["d"] = Project(context, notification, expandItems: true) });
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

        var body = await StubJson.ReadObjectAsync(context);
        if (body is null)
        {
            await ErrorAsync(context, 400, "/IWBEP/CM_MGW_RT/020", "The request body is not a JSON object.");
            return;
        }

        foreach (var (name, value) in body)
        {
            if (!Updatable.Contains(name) || !HeaderFields.TryGetValue(name, out var spec))
            {
                await ErrorAsync(context, 400, "/IWBEP/CM_MGW_RT/020", $"Property '{name}' is invalid or cannot be changed.");
                return;
            }

            if (spec.Problem(name, value) is { } problem)
            {
                await ErrorAsync(context, 400, problem.Code, problem.Message);
                return;
            }
        }

        lock (notification)
        {
            foreach (var (name, value) in body)
            {
                notification.Fields[name] = value?.DeepClone();
            }

            notification.UpdateCount++;
        }

        var changed = string.Join(",", body.Select(p => p.Key));
        LogUpdated(logger, notification.Number, changed);

        if (fault?.Kind == StubFaultKind.DropAfterAccept)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = 204;
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

    private static async Task<bool> ApplyFaultAsync(HttpContext context, (StubFaultKind Kind, TimeSpan RetryAfter)? fault)
    {
        switch (fault?.Kind)
        {
            case StubFaultKind.TooManyRequests:
                context.Response.Headers.RetryAfter = Math.Max(0, (int)Math.Ceiling(fault.Value.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await ErrorAsync(context, 429, "/IWFND/CM_BEC/429", "Too many requests; the API quota is exhausted.");
                return true;
            case StubFaultKind.ServiceUnavailable:
                await ErrorAsync(context, 503, "/IWFND/CM_BEC/503", "Service unavailable: the back-end system is not reachable.");
                return true;
            default:
                return false;
        }
    }

    private static (string Code, string Message)? Validate(JsonObject body)
    {
        foreach (var (name, value) in body)
        {
            if (name == "to_Item")
            {
                if (value?["results"] is not JsonArray items)
                {
                    return ("/IWBEP/CM_MGW_RT/020", "Navigation property 'to_Item' must be {\"results\":[…]}.");
                }

                foreach (var item in items)
                {
                    if (item is not JsonObject itemObject)
                    {
                        return ("/IWBEP/CM_MGW_RT/020", "An item must be an object.");
                    }

                    if (ValidateItem(itemObject) is { } itemProblem)
                    {
                        return itemProblem;
                    }
                }

                continue;
            }

            if (!HeaderFields.TryGetValue(name, out var spec))
            {
                return ("/IWBEP/CM_MGW_RT/020", $"Property '{name}' is invalid for entity type A_MaintenanceNotificationType.");
            }

            if (spec.Problem(name, value) is { } problem)
            {
                return problem;
            }
        }

        foreach (var (name, spec) in HeaderFields)
        {
            if (spec.Required && body[name] is null)
            {
                return ("IW/040", $"Property '{name}' is mandatory.");
            }
        }

        if (StubJson.Text(body["NotificationType"]) is not ("M1" or "M2" or "M3"))
        {
            return ("IW/051", $"Notification type '{StubJson.Text(body["NotificationType"])}' is not defined.");
        }

        if (StubJson.Text(body["TechObjIsEquipOrFuncnlLoc"]) is not ("EAMS_EQUI" or "EAMS_FL"))
        {
            return ("IW/052", "TechObjIsEquipOrFuncnlLoc must be EAMS_EQUI or EAMS_FL.");
        }

        if (body["MaintPriority"] is { } priority && StubJson.Text(priority) is not ("1" or "2" or "3" or "4"))
        {
            return ("IW/053", $"Priority {priority.ToJsonString()} is not defined for priority type PM.");
        }

        return null;
    }

    private static (string Code, string Message)? ValidateItem(JsonObject item)
    {
        foreach (var (name, value) in item)
        {
            if (name == "to_ItemCause")
            {
                if (value?["results"] is not JsonArray causes)
                {
                    return ("/IWBEP/CM_MGW_RT/020", "Navigation property 'to_ItemCause' must be {\"results\":[…]}.");
                }

                foreach (var cause in causes)
                {
                    foreach (var (causeName, causeValue) in cause as JsonObject ?? [])
                    {
                        if (!CauseFields.TryGetValue(causeName, out var causeSpec))
                        {
                            return ("/IWBEP/CM_MGW_RT/020", $"Property '{causeName}' is invalid for entity type A_MaintNotifItemCauseType.");
                        }

                        if (causeSpec.Problem(causeName, causeValue) is { } causeProblem)
                        {
                            return causeProblem;
                        }
                    }
                }

                continue;
            }

            if (!ItemFields.TryGetValue(name, out var spec))
            {
                return ("/IWBEP/CM_MGW_RT/020", $"Property '{name}' is invalid for entity type A_MaintenanceItemType.");
            }

            if (spec.Problem(name, value) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static JsonObject Project(HttpContext context, SapNotification notification, bool expandItems)
    {
        lock (notification)
        {
            var result = (JsonObject)notification.Fields.DeepClone();
            var uri = $"{StubJson.Origin(context)}{Prefix(context)}{ServicePath}/{EntitySet}('{notification.Number}')";
            result["__metadata"] = new JsonObject { ["id"] = uri, ["uri"] = uri, ["type"] = "API_MAINTNOTIFICATION.A_MaintenanceNotificationType" };
            if (!expandItems)
            {
                result["to_Item"] = new JsonObject { ["__deferred"] = new JsonObject { ["uri"] = uri + "/to_Item" } };
            }
            else if (result["to_Item"] is null)
            {
                result["to_Item"] = new JsonObject { ["results"] = new JsonArray() };
            }

            return result;
        }
    }

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

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        StubJson.WriteAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = new JsonObject { ["lang"] = "en", ["value"] = message },
                ["innererror"] = new JsonObject { ["transactionid"] = Guid.NewGuid().ToString("N").ToUpperInvariant(), ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) },
            },
        });

    private sealed record FieldSpec(string Type, int MaxLength, bool Required)
    {
        public static FieldSpec Date { get; } = new("Edm.DateTime", 0, false);

        public static FieldSpec Time { get; } = new("Edm.Time", 0, false);

        public static FieldSpec Boolean { get; } = new("Edm.Boolean", 0, false);

        public static FieldSpec Text(int maxLength, bool required = false) => new("Edm.String", maxLength, required);

        public (string Code, string Message)? Problem(string name, JsonNode? value)
        {
            if (value is null)
            {
                return null;
            }

            var kind = value.GetValueKind();
            return Type switch
            {
                "Edm.Boolean" when kind is not (JsonValueKind.True or JsonValueKind.False) =>
                    ("/IWBEP/CM_MGW_RT/022", $"Property '{name}' has invalid value {value.ToJsonString()}: expected Edm.Boolean."),
                "Edm.DateTime" when kind != JsonValueKind.String || !DatePattern().IsMatch(value.GetValue<string>()) =>
                    ("/IWBEP/CM_MGW_RT/022", $"Property '{name}' has invalid value {value.ToJsonString()}: expected Edm.DateTime as /Date(ms)/."),
                "Edm.Time" when kind != JsonValueKind.String || !TimePattern().IsMatch(value.GetValue<string>()) =>
                    ("/IWBEP/CM_MGW_RT/022", $"Property '{name}' has invalid value {value.ToJsonString()}: expected Edm.Time as PT..H..M..S."),
                "Edm.String" when kind != JsonValueKind.String =>
                    ("/IWBEP/CM_MGW_RT/022", $"Property '{name}' has invalid value {value.ToJsonString()}: expected Edm.String."),
                "Edm.String" when value.GetValue<string>().Length > MaxLength =>
                    ("/IWBEP/CM_MGW_RT/022", $"Property '{name}' is longer than {MaxLength.ToString(CultureInfo.InvariantCulture)} characters."),
                _ => null,
            };
        }
    }

    [GeneratedRegex("^/Date\\(-?\\d+([+-]\\d{4})?\\)/$")]
    private static partial Regex DatePattern();

    [GeneratedRegex("^PT\\d{1,2}H\\d{1,2}M\\d{1,2}S$")]
    private static partial Regex TimePattern();
}
