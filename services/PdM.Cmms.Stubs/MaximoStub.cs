using System.Collections.Concurrent;
using System.Globalization;
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

/// <summary>One Maximo record as the stub stores it.</summary>
public sealed class MaximoRecord : StubRecord
{
    public required string ObjectStructure { get; init; }

    /// <summary>ticketid (SR) or wonum (WO).</summary>
    public required string Id { get; init; }

    /// <summary>The resource path below the Maximo root: <c>api/os/mxapisr/_…</c>.</summary>
    public required string Path { get; init; }

    public string? Field(string name)
    {
        lock (this)
        {
            return StubJson.Text(Fields[name]) ?? Fields[name]?.ToJsonString();
        }
    }
}

/// <summary>One isolated Maximo instance (tenant): its API key, records, faults and request count.</summary>
public sealed class MaximoTenant(string apiKey, StubLinkStyle links)
{
    private int _requests;
    private int _rejected;
    private int _nextTicket = 1000;
    private int _nextWorkOrder = 5000;

    public string ApiKey { get; set; } = apiKey;

    /// <summary>How <c>Location</c> and <c>href</c> are written (absolute, path-absolute or relative to the Maximo root).</summary>
    public StubLinkStyle Links { get; set; } = links;

    public StubFaults Faults { get; } = new();

    /// <summary>
    /// A Maximo under load: every API request is carried out at once and answered this long after, whether or not its
    /// client is still waiting (a server learns that the client has gone only when it writes the answer). Zero by default.
    /// </summary>
    public TimeSpan AnswerDelay { get; set; }

    public ConcurrentDictionary<string, MaximoRecord> Records { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request this tenant received on the Maximo API (control endpoints excluded).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Writes refused by the contract check (4xx with a BMXAA error body).</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    internal void CountRequest() => Interlocked.Increment(ref _requests);

    internal void CountRejected() => Interlocked.Increment(ref _rejected);

    internal string NextId(bool workOrder) =>
        (workOrder ? Interlocked.Increment(ref _nextWorkOrder) : Interlocked.Increment(ref _nextTicket)).ToString(CultureInfo.InvariantCulture);

    public IReadOnlyList<MaximoRecord> Find(string field, string value) =>
        Records.Values.Where(r => r.Field(field) == value).ToList();

    /// <summary>
    /// A planner finishes the record: status COMP (work order; or CLOSE, CAN) or RESOLVED (service request), with the
    /// failure class and problem code they confirmed (e.g. PUMPS / BRG, or NFF for no fault found).
    /// </summary>
    public void Close(string id, string? problemCode, string? status = null, string? failureCode = null)
    {
        var record = Records.Values.Single(r => r.Id == id);
        lock (record)
        {
            record.Fields["status"] = status ?? (record.ObjectStructure == MaximoStub.WorkOrderStructure ? "COMP" : "RESOLVED");
            record.Fields["statusdate"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
            if (problemCode is not null)
            {
                record.Fields["problemcode"] = problemCode;
            }

            if (failureCode is not null)
            {
                record.Fields["failurecode"] = failureCode;
            }
        }
    }
}

/// <summary>
/// A contract stub of the Maximo JSON API (INTEGRATIONS.md §1) for MXAPISR and MXAPIWODETAIL that validates every write
/// against the object structures' JSON schemas (Contracts/mxapiwodetail.json, mxapisr.json): unknown attribute, read-only
/// attribute, too long, wrong type, missing required, answered with Maximo's <c>{"Error":{"reasonCode":"BMXAA…",…}}</c>.
/// Emulates the apikey header, lean=1, UPPER conversion, 201 + Location, the <c>properties</c> header, <c>oslc.where</c>
/// look-ups on schema attributes, updates by POST + <c>x-method-override: PATCH</c>, and the schema route itself.
/// </summary>
public sealed partial class MaximoStub(IOptions<CmmsStubOptions> options, ILogger<MaximoStub> logger)
{
    public const string ServiceRequestStructure = "mxapisr";
    public const string WorkOrderStructure = "mxapiwodetail";

    private static readonly Lazy<Dictionary<string, MaximoObjectSchema>> Contracts = new(() => new(StringComparer.OrdinalIgnoreCase)
    {
        [ServiceRequestStructure] = MaximoObjectSchema.Load(ContractFile.Text(ContractFile.MaximoServiceRequest)),
        [WorkOrderStructure] = MaximoObjectSchema.Load(ContractFile.Text(ContractFile.MaximoWorkOrder)),
    });

    private readonly ConcurrentDictionary<string, MaximoTenant> _tenants = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The object structures' schemas as the stub enforces them.</summary>
    public static IReadOnlyDictionary<string, MaximoObjectSchema> Schemas => Contracts.Value;

    public MaximoTenant Tenant(string name = CmmsStubOptions.DefaultTenant) =>
        _tenants.GetOrAdd(name, _ => new MaximoTenant(options.Value.MaximoApiKey, options.Value.Links));

    internal void Map(IEndpointRouteBuilder endpoints, string prefix)
    {
        var api = endpoints.MapGroup(prefix + "/maximo");
        api.MapGet("/api/os/{os}", Query);
        api.MapPost("/api/os/{os}", Create);
        api.MapGet("/api/os/{os}/{id}", Get);
        api.MapPost("/api/os/{os}/{id}", Update);
        api.MapGet("/oslc/jsonschemas/{os}", Schema);

        var control = endpoints.MapGroup(prefix + "/_stub/maximo");
        StubFaults.MapFaultsEndpoint(control, context => Tenant(StubJson.Tenant(context)).Faults);
        control.MapPost("/records/{id}/close", (HttpContext context, string id, string? problemcode, string? status, string? failurecode) =>
        {
            Tenant(StubJson.Tenant(context)).Close(id, problemcode, status, failurecode);
            return Results.NoContent();
        });
        control.MapGet("/records", (HttpContext context) =>
            Results.Text(new JsonArray(Tenant(StubJson.Tenant(context)).Records.Values.Select(r => (JsonNode)Snapshot(r)).ToArray()).ToJsonString(), "application/json"));
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

        if (match.Success && !Schemas[os].Attributes.ContainsKey(match.Groups[1].Value))
        {
            await ErrorAsync(context, 400, "BMXAA8726E", $"The attribute {match.Groups[1].Value} in the oslc.where clause does not exist in the object structure {os.ToUpperInvariant()}.",
                match.Groups[1].Value);
            return;
        }

        foreach (var record in tenant.Records.Values.Where(r => r.ObjectStructure.Equals(os, StringComparison.OrdinalIgnoreCase)).OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            if (!match.Success || record.Field(match.Groups[1].Value) == match.Groups[2].Value)
            {
                members.Add(Project(context, tenant, record, context.Request.Query["oslc.select"].ToString()));
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

        await StubJson.WriteAsync(context, 200, Project(context, tenant, record, context.Request.Query["oslc.select"].ToString()));
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

        var schema = Schemas[os];
        if (await ReadBodyAsync(context, tenant, schema, creating: true) is not { } body)
        {
            return;
        }

        await StubFaults.HoldAsync(context, fault);
        var workOrder = os.Equals(WorkOrderStructure, StringComparison.OrdinalIgnoreCase);
        var id = tenant.NextId(workOrder);
        var siteId = StubJson.Text(body["siteid"])!;
        var resource = "_" + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{siteId}/{id}"));
        body[workOrder ? "wonum" : "ticketid"] = id;
        body["status"] ??= schema.Attributes["status"].Default;
        if (!workOrder)
        {
            body["class"] = schema.Attributes["class"].Default;
        }

        body["statusdate"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
        var record = new MaximoRecord { ObjectStructure = os.ToLowerInvariant(), Id = id, Path = $"api/os/{os.ToLowerInvariant()}/{resource}", Fields = body };
        tenant.Records[Key(os, resource)] = record;
        var (assetNum, reference, description) = (record.Field("assetnum"), record.Field(workOrder ? "externalrefid" : "externalrecid"), record.Field("description"));
        LogCreated(logger, workOrder ? "work order" : "service request", id, siteId, assetNum, reference, description);

        // A drop leaves the record in place: the client's retry must find it by its external reference.
        if (StubFaults.DropAfterAccept(context, fault))
        {
            return;
        }

        // A relative Location is resolved against the request's URI (…/api/os/{os}), RFC 9110 §10.2.2.
        context.Response.Headers.Location = tenant.Links == StubLinkStyle.Relative ? $"{os.ToLowerInvariant()}/{resource}" : Href(context, tenant, record);
        var properties = context.Request.Headers["properties"].ToString();
        await StubJson.WriteAsync(context, 201, properties.Length == 0 ? null : Project(context, tenant, record, properties));
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

        if (await ReadBodyAsync(context, tenant, Schemas[os], creating: false) is not { } body)
        {
            return;
        }

        await StubFaults.HoldAsync(context, fault);
        var changed = record.ApplyUpdate(body);
        LogUpdated(logger, record.Id, changed);
        if (StubFaults.DropAfterAccept(context, fault))
        {
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

        await StubJson.WriteAsync(context, 200, Schemas[os].Document.DeepClone());
    }

    /// <summary>apikey, object structure, lean=1 and scripted 429/503; null when a response was already written.</summary>
    private async Task<MaximoTenant?> PreflightAsync(HttpContext context, string os, bool isWrite, bool requireLean = true)
    {
        var tenant = Tenant(StubJson.Tenant(context));
        tenant.CountRequest();
        if (tenant.AnswerDelay is { } delay && delay > TimeSpan.Zero)
        {
            // Before the answer's first byte, after the request's work: a create is carried out at once, answered late.
            context.Response.OnStarting(() => Task.Delay(delay, CancellationToken.None));
        }

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

        if (!Schemas.ContainsKey(os))
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

    private static Task<bool> ApplyFaultAsync(HttpContext context, (StubFaultKind Kind, TimeSpan RetryAfter)? fault) =>
        StubFaults.AnswerAsync(
            context,
            fault,
            tooManyRequests: () => ErrorAsync(context, 429, "BMXAA0024E", "Too many requests: the API rate limit for this API key was exceeded."),
            unavailable: () => ErrorAsync(context, 503, "BMXAA6713E", "The MBO fetch operation failed: the database is unavailable."));

    /// <summary>The request body, normalised, when it is a JSON object <paramref name="schema"/> accepts; otherwise answers the rejection and returns null.</summary>
    private async Task<JsonObject?> ReadBodyAsync(HttpContext context, MaximoTenant tenant, MaximoObjectSchema schema, bool creating)
    {
        var body = await StubJson.ReadObjectAsync(context);
        var problem = body is null ? new MaximoProblem("BMXAA1460E", "The request body is not a JSON object.") : schema.Validate(body, creating);
        if (problem is not null)
        {
            await RejectAsync(context, tenant, schema, problem);
            return null;
        }

        schema.Normalise(body!);
        return body;
    }

    private Task RejectAsync(HttpContext context, MaximoTenant tenant, MaximoObjectSchema schema, MaximoProblem problem)
    {
        tenant.CountRejected();
        LogRejected(logger, schema.Resource, problem.ReasonCode, problem.Message);
        return ErrorAsync(context, 400, problem.ReasonCode, problem.Message, problem.Attribute, schema.Title.ToLowerInvariant());
    }

    /// <summary>Maximo's error body (IBM Maximo REST API Guide): reason code, "CODE - text" message, status as a string.</summary>
    private static Task ErrorAsync(HttpContext context, int status, string reasonCode, string message, string? attribute = null, string? objectPath = null)
    {
        var error = new JsonObject();
        if (attribute is not null)
        {
            error["errorattrname"] = attribute;
            error["errorobjpath"] = objectPath;
        }

        error["extendedError"] = new JsonObject { ["moreInfo"] = new JsonObject { ["href"] = $"{StubJson.Origin(context)}/maximo/api/error/messages/{reasonCode}" } };
        error["reasonCode"] = reasonCode;
        error["message"] = $"{reasonCode} - {message}";
        error["statusCode"] = status.ToString(CultureInfo.InvariantCulture);
        return StubJson.WriteAsync(context, status, new JsonObject { ["Error"] = error });
    }

    private static JsonObject Snapshot(MaximoRecord record)
    {
        lock (record)
        {
            return (JsonObject)record.Fields.DeepClone();
        }
    }

    private static JsonObject Project(HttpContext context, MaximoTenant tenant, MaximoRecord record, string select)
    {
        var fields = Snapshot(record);
        JsonObject result;
        if (select.Length == 0 || select == "*")
        {
            result = fields;
        }
        else
        {
            result = [];
            foreach (var name in select.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (fields[name] is { } value)
                {
                    result[name] = value.DeepClone();
                }
            }
        }

        result["href"] = Href(context, tenant, record);
        return result;
    }

    /// <summary>A record's href in the tenant's style; a relative one is relative to the Maximo root (<c>…/maximo/</c>).</summary>
    private static string Href(HttpContext context, MaximoTenant tenant, MaximoRecord record)
    {
        var root = $"{context.Request.PathBase}{(context.Request.RouteValues["tenant"] is string t ? $"/t/{t}" : "")}/maximo/";
        return tenant.Links switch
        {
            StubLinkStyle.Relative => record.Path,
            StubLinkStyle.PathAbsolute => root + record.Path,
            _ => StubJson.Origin(context) + root + record.Path,
        };
    }

    private static string Key(string os, string resource) => $"{os.ToLowerInvariant()}/{resource}";

    [GeneratedRegex("^\\s*(\\w+)\\s*=\\s*\"(.*)\"\\s*$")]
    private static partial Regex WherePattern();

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information,
        Message = "Maximo stub: created {Kind} {Id} (site {SiteId}, asset {AssetNum}, external reference {Reference}): {Description}")]
    private static partial void LogCreated(ILogger logger, string kind, string id, string siteId, string? assetNum, string? reference, string? description);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Maximo stub: updated {Id} ({Fields})")]
    private static partial void LogUpdated(ILogger logger, string id, string fields);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "Maximo stub: refused a write against the {Resource} schema: {ReasonCode} {Message}")]
    private static partial void LogRejected(ILogger logger, string resource, string reasonCode, string message);
}
