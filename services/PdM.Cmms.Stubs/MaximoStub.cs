using System.Collections.Concurrent;
using System.Globalization;
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

/// <summary>One Maximo record as the stub stores it.</summary>
public sealed class MaximoRecord
{
    public required string ObjectStructure { get; init; }

    /// <summary>ticketid (SR) or wonum (WO).</summary>
    public required string Id { get; init; }

    public required string Href { get; init; }

    public required JsonObject Fields { get; init; }

    public int UpdateCount { get; set; }

    public string? Field(string name) => StubJson.Text(Fields[name]) ?? Fields[name]?.ToJsonString();
}

/// <summary>One isolated Maximo instance (tenant): its API key, records, faults and request count.</summary>
public sealed class MaximoTenant(string apiKey)
{
    private int _requests;
    private int _nextTicket = 1000;
    private int _nextWorkOrder = 5000;

    public string ApiKey { get; set; } = apiKey;

    public StubFaults Faults { get; } = new();

    public ConcurrentDictionary<string, MaximoRecord> Records { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request this tenant received on the Maximo API (control endpoints excluded).</summary>
    public int Requests => Volatile.Read(ref _requests);

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal string NextId(bool workOrder) =>
        (workOrder ? Interlocked.Increment(ref _nextWorkOrder) : Interlocked.Increment(ref _nextTicket)).ToString(CultureInfo.InvariantCulture);

    public IReadOnlyList<MaximoRecord> Find(string field, string value) =>
        Records.Values.Where(r => r.Field(field) == value).ToList();

    /// <summary>A planner closes the record: status CLOSE (WO) or RESOLVED (SR), with a problem code (e.g. BRG, or NFF for no fault found).</summary>
    public void Close(string id, string? problemCode, string? status = null)
    {
        var record = Records.Values.Single(r => r.Id == id);
        lock (record)
        {
            record.Fields["status"] = status ?? (record.ObjectStructure == MaximoStub.WorkOrderStructure ? "CLOSE" : "RESOLVED");
            record.Fields["statusdate"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
            if (problemCode is not null)
            {
                record.Fields["problemcode"] = problemCode;
            }
        }
    }
}

/// <summary>
/// A contract stub of the Maximo JSON API (INTEGRATIONS.md §1) for MXAPISR and MXAPIWODETAIL: apikey header, lean=1,
/// field lists and types enforced (unknown or missing fields, too-long descriptions → BMXAA error bodies), 201 +
/// Location, <c>properties</c> header, <c>oslc.where</c> look-up, updates by POST + <c>x-method-override: PATCH</c>.
/// </summary>
public sealed partial class MaximoStub(IOptions<CmmsStubOptions> options, ILogger<MaximoStub> logger)
{
    public const string ServiceRequestStructure = "mxapisr";
    public const string WorkOrderStructure = "mxapiwodetail";

    private static readonly Dictionary<string, Dictionary<string, FieldSpec>> Structures = new(StringComparer.OrdinalIgnoreCase)
    {
        [ServiceRequestStructure] = new(StringComparer.Ordinal)
        {
            ["siteid"] = FieldSpec.Text(8, required: true),
            ["description"] = FieldSpec.Text(100, required: true),
            ["description_longdescription"] = FieldSpec.Text(32000),
            ["reportedby"] = FieldSpec.Text(62),
            ["affectedperson"] = FieldSpec.Text(62),
            ["assetnum"] = FieldSpec.Text(25),
            ["location"] = FieldSpec.Text(25),
            ["reportedpriority"] = FieldSpec.Integer,
            ["externalrefid"] = FieldSpec.Text(254),
        },
        [WorkOrderStructure] = new(StringComparer.Ordinal)
        {
            ["siteid"] = FieldSpec.Text(8, required: true),
            ["description"] = FieldSpec.Text(100),
            ["description_longdescription"] = FieldSpec.Text(32000),
            ["assetnum"] = FieldSpec.Text(25),
            ["location"] = FieldSpec.Text(25),
            ["worktype"] = FieldSpec.Text(5),
            ["wopriority"] = FieldSpec.Integer,
            ["status"] = FieldSpec.Text(16),
            ["reportedby"] = FieldSpec.Text(62),
            ["targstartdate"] = FieldSpec.Date,
            ["targcompdate"] = FieldSpec.Date,
            ["failurecode"] = FieldSpec.Text(8),
            ["problemcode"] = FieldSpec.Text(8),
            ["jpnum"] = FieldSpec.Text(10),
            ["classstructureid"] = FieldSpec.Text(20),
            ["externalrefid"] = FieldSpec.Text(254),
        },
    };

    private readonly ConcurrentDictionary<string, MaximoTenant> _tenants = new(StringComparer.OrdinalIgnoreCase);

    public MaximoTenant Tenant(string name = CmmsStubOptions.DefaultTenant) => _tenants.GetOrAdd(name, _ => new MaximoTenant(options.Value.MaximoApiKey));

    internal void Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var api = endpoints.MapGroup(prefix + "/maximo");
        api.MapGet("/api/os/{os}", Query);
        api.MapPost("/api/os/{os}", Create);
        api.MapGet("/api/os/{os}/{id}", Get);
        api.MapPost("/api/os/{os}/{id}", Update);
        api.MapGet("/oslc/jsonschemas/{os}", Schema);

        var control = endpoints.MapGroup(prefix + "/_stub/maximo");
        control.MapPost("/faults", (HttpContext context, FaultRequest fault) =>
        {
            Tenant(StubJson.Tenant(context)).Faults.Enqueue(fault.Kind, fault.Count, TimeSpan.FromSeconds(fault.RetryAfterSeconds));
            return Results.NoContent();
        });
        control.MapPost("/records/{id}/close", (HttpContext context, string id, string? problemcode, string? status) =>
        {
            Tenant(StubJson.Tenant(context)).Close(id, problemcode, status);
            return Results.NoContent();
        });
        control.MapGet("/records", (HttpContext context) =>
            Results.Text(new JsonArray(Tenant(StubJson.Tenant(context)).Records.Values.Select(r => (JsonNode)r.Fields.DeepClone()).ToArray()).ToJsonString(), "application/json"));
    }

    private async Task Query(HttpContext context, string os)
    {
        var tenant = await PreflightAsync(context, os, isWrite: false);
        if (tenant is null)
        {
            return;
        }

        var members = new JsonArray();
        var where = context.Request.Query["oslc.where"].ToString();
        var match = WherePattern().Match(where);
        if (where.Length > 0 && !match.Success)
        {
            await ErrorAsync(context, 400, "BMXAA9487E", $"The oslc.where clause '{where}' is not valid.");
            return;
        }

        foreach (var record in tenant.Records.Values.Where(r => r.ObjectStructure.Equals(os, StringComparison.OrdinalIgnoreCase)))
        {
            if (!match.Success || record.Field(match.Groups[1].Value) == match.Groups[2].Value)
            {
                members.Add(Project(record, context.Request.Query["oslc.select"].ToString()));
            }
        }

        await StubJson.WriteAsync(context, 200, new JsonObject
        {
            ["member"] = members,
            ["responseInfo"] = new JsonObject { ["href"] = StubJson.Origin(context) + context.Request.Path + context.Request.QueryString },
        });
    }

    private async Task Get(HttpContext context, string os, string id)
    {
        var tenant = await PreflightAsync(context, os, isWrite: false);
        if (tenant is null)
        {
            return;
        }

        if (!tenant.Records.TryGetValue(Key(os, id), out var record))
        {
            await ErrorAsync(context, 404, "BMXAA8727E", $"The OSLC resource {os}/{id} was not found.");
            return;
        }

        await StubJson.WriteAsync(context, 200, Project(record, context.Request.Query["oslc.select"].ToString()));
    }

    private async Task Create(HttpContext context, string os)
    {
        var tenant = await PreflightAsync(context, os, isWrite: true);
        if (tenant is null)
        {
            return;
        }

        var fault = tenant.Faults.Take(isWrite: true);
        if (await ApplyFaultAsync(context, fault))
        {
            return;
        }

        var body = await StubJson.ReadObjectAsync(context);
        var spec = Structures[os];
        if (body is null || await ValidateAsync(context, os, spec, body, creating: true) is false)
        {
            if (body is null)
            {
                await ErrorAsync(context, 400, "BMXAA1460E", "The request body is not a JSON object.");
            }

            return;
        }

        var workOrder = os.Equals(WorkOrderStructure, StringComparison.OrdinalIgnoreCase);
        var id = tenant.NextId(workOrder);
        var siteId = StubJson.Text(body["siteid"])!;
        var resource = "_" + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{siteId}/{id}"));
        var href = $"{StubJson.Origin(context)}{context.Request.PathBase}{context.Request.Path}/{resource}";
        body[workOrder ? "wonum" : "ticketid"] = id;
        body["status"] ??= workOrder ? "WAPPR" : "NEW";
        body["class"] = workOrder ? "WORKORDER" : "SR";
        body["href"] = href;
        body["statusdate"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        var record = new MaximoRecord { ObjectStructure = os.ToLowerInvariant(), Id = id, Href = href, Fields = body };
        tenant.Records[Key(os, resource)] = record;
        var (assetNum, externalRefId, description) = (record.Field("assetnum"), record.Field("externalrefid"), record.Field("description"));
        LogCreated(logger, workOrder ? "work order" : "service request", id, siteId, assetNum, externalRefId, description);

        if (fault?.Kind == StubFaultKind.DropAfterAccept)
        {
            // The record exists; the client never hears so. Its retry must find it by externalrefid.
            context.Abort();
            return;
        }

        context.Response.Headers.Location = href;
        var properties = context.Request.Headers["properties"].ToString();
        await StubJson.WriteAsync(context, 201, properties.Length == 0 ? null : Project(record, properties));
    }

    private async Task Update(HttpContext context, string os, string id)
    {
        var tenant = await PreflightAsync(context, os, isWrite: true);
        if (tenant is null)
        {
            return;
        }

        if (!string.Equals(context.Request.Headers["x-method-override"], "PATCH", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorAsync(context, 400, "BMXAA8729E", "A POST to a resource URI needs the header x-method-override: PATCH (or DELETE).");
            return;
        }

        var fault = tenant.Faults.Take(isWrite: true);
        if (await ApplyFaultAsync(context, fault))
        {
            return;
        }

        if (!tenant.Records.TryGetValue(Key(os, id), out var record))
        {
            await ErrorAsync(context, 404, "BMXAA8727E", $"The OSLC resource {os}/{id} was not found.");
            return;
        }

        var body = await StubJson.ReadObjectAsync(context);
        if (body is null || await ValidateAsync(context, os, Structures[os], body, creating: false) is false)
        {
            if (body is null)
            {
                await ErrorAsync(context, 400, "BMXAA1460E", "The request body is not a JSON object.");
            }

            return;
        }

        lock (record)
        {
            foreach (var (name, value) in body)
            {
                record.Fields[name] = value?.DeepClone();
            }

            record.UpdateCount++;
        }

        var changed = string.Join(",", body.Select(p => p.Key));
        LogUpdated(logger, record.Id, changed);

        if (fault?.Kind == StubFaultKind.DropAfterAccept)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = 204;
    }

    private async Task Schema(HttpContext context, string os)
    {
        if (await PreflightAsync(context, os, isWrite: false, requireLean: false) is null)
        {
            return;
        }

        var properties = new JsonObject();
        foreach (var (name, spec) in Structures[os])
        {
            properties[name] = spec.Schema();
        }

        await StubJson.WriteAsync(context, 200, new JsonObject
        {
            ["$schema"] = "http://json-schema.org/draft-04/schema#",
            ["resource"] = os.ToUpperInvariant(),
            ["required"] = new JsonArray(Structures[os].Where(f => f.Value.Required).Select(f => (JsonNode)f.Key).ToArray()),
            ["properties"] = properties,
        });
    }

    /// <summary>apikey, object structure, lean=1 and scripted 429/503; null when a response was already written.</summary>
    private async Task<MaximoTenant?> PreflightAsync(HttpContext context, string os, bool isWrite, bool requireLean = true)
    {
        var tenant = Tenant(StubJson.Tenant(context));
        tenant.CountRequest();
        var key = context.Request.Headers["apikey"].ToString();
        if (key.Length == 0)
        {
            key = context.Request.Query["apikey"].ToString();
        }

        if (key != tenant.ApiKey)
        {
            await ErrorAsync(context, 401, "BMXAA7901E", "You cannot log in at this time. Contact the system administrator.");
            return null;
        }

        if (!isWrite && await ApplyFaultAsync(context, tenant.Faults.Take(isWrite: false)))
        {
            return null;
        }

        if (isWrite && tenant.Faults.Take(isWrite: false) is { } early && await ApplyFaultAsync(context, early))
        {
            return null;
        }

        if (!Structures.ContainsKey(os))
        {
            await ErrorAsync(context, 404, "BMXAA8714E", $"The object structure {os.ToUpperInvariant()} was not found.");
            return null;
        }

        if (requireLean && context.Request.Query["lean"] != "1")
        {
            await ErrorAsync(context, 400, "BMXAA8738E", "Without lean=1 attribute names must carry the spi: namespace prefix; this client sent plain names.");
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
                await ErrorAsync(context, 429, "BMXAA0024E", "Too many requests: the API rate limit for this API key was exceeded.");
                return true;
            case StubFaultKind.ServiceUnavailable:
                await ErrorAsync(context, 503, "BMXAA6713E", "The MBO fetch operation failed: the database is unavailable.");
                return true;
            default:
                return false;
        }
    }

    private static async Task<bool> ValidateAsync(HttpContext context, string os, Dictionary<string, FieldSpec> spec, JsonObject body, bool creating)
    {
        foreach (var (name, value) in body)
        {
            if (!spec.TryGetValue(name, out var field))
            {
                await ErrorAsync(context, 400, "BMXAA4153E", $"The attribute {name.ToUpperInvariant()} does not exist in the object structure {os.ToUpperInvariant()}.");
                return false;
            }

            if (field.Problem(name, value) is { } problem)
            {
                await ErrorAsync(context, 400, problem.Code, problem.Message);
                return false;
            }
        }

        if (creating)
        {
            foreach (var (name, field) in spec)
            {
                if (field.Required && body[name] is null)
                {
                    await ErrorAsync(context, 400, "BMXAA4195E", $"A value is required for the {name.ToUpperInvariant()} field on the {os.ToUpperInvariant()} object.");
                    return false;
                }
            }
        }

        return true;
    }

    private static Task ErrorAsync(HttpContext context, int status, string reasonCode, string message) =>
        StubJson.WriteAsync(context, status, new JsonObject
        {
            ["Error"] = new JsonObject
            {
                ["extendedError"] = new JsonObject { ["moreInfo"] = new JsonObject { ["href"] = $"{StubJson.Origin(context)}/maximo/api/error/messages/{reasonCode}" } },
                ["reasonCode"] = reasonCode,
                ["message"] = $"{reasonCode} - {message}",
                ["statusCode"] = status.ToString(CultureInfo.InvariantCulture),
            },
        });

    private static JsonObject Project(MaximoRecord record, string select)
    {
        lock (record)
        {
            if (select.Length == 0 || select == "*")
            {
                return (JsonObject)record.Fields.DeepClone();
            }

            var result = new JsonObject();
            foreach (var name in select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (record.Fields[name] is { } value)
                {
                    result[name] = value.DeepClone();
                }
            }

            result["href"] = record.Href;
            return result;
        }
    }

    private static string Key(string os, string resource) => $"{os.ToLowerInvariant()}/{resource}";

    [GeneratedRegex("^\\s*(\\w+)\\s*=\\s*\"(.*)\"\\s*$")]
    private static partial Regex WherePattern();

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information,
        Message = "Maximo stub: created {Kind} {Id} (site {SiteId}, asset {AssetNum}, externalrefid {ExternalRefId}): {Description}")]
    private static partial void LogCreated(ILogger logger, string kind, string id, string siteId, string? assetNum, string? externalRefId, string? description);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Maximo stub: updated {Id} ({Fields})")]
    private static partial void LogUpdated(ILogger logger, string id, string fields);

    private sealed record FieldSpec(string Type, int MaxLength, bool Required)
    {
        public static FieldSpec Integer { get; } = new("integer", 0, false);

        public static FieldSpec Date { get; } = new("datetime", 0, false);

        public static FieldSpec Text(int maxLength, bool required = false) => new("string", maxLength, required);

        public JsonObject Schema() => Type == "datetime"
            ? new JsonObject { ["type"] = "string", ["format"] = "date-time" }
            : Type == "integer" ? new JsonObject { ["type"] = "integer" } : new JsonObject { ["type"] = "string", ["maxLength"] = MaxLength };

        public (string Code, string Message)? Problem(string name, JsonNode? value)
        {
            if (value is null)
            {
                return null;
            }

            var kind = value.GetValueKind();
            switch (Type)
            {
                case "integer" when kind != JsonValueKind.Number || !value.AsValue().TryGetValue<int>(out _):
                    return ("BMXAA4120E", $"The value {value.ToJsonString()} for {name.ToUpperInvariant()} is not a valid integer.");
                case "datetime" when kind != JsonValueKind.String
                    || !DateTimeOffset.TryParse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                    return ("BMXAA4144E", $"The value {value.ToJsonString()} for {name.ToUpperInvariant()} is not a valid ISO 8601 date and time.");
                case "string" when kind != JsonValueKind.String:
                    return ("BMXAA4120E", $"The value {value.ToJsonString()} for {name.ToUpperInvariant()} must be a string.");
                case "string" when value.GetValue<string>().Length > MaxLength:
                    return ("BMXAA4049E", $"The value specified for {name.ToUpperInvariant()} exceeds the maximum field length of {MaxLength}.");
                default:
                    return null;
            }
        }
    }
}
