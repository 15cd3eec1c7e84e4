using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace PdM.Cmms.Stubs.Contracts;

/// <summary>One attribute of a Maximo object structure, as its JSON schema declares it.</summary>
public sealed record MaximoField(string Name, string Type, string? SubType, int? MaxLength, string? Default, long? Minimum, long? Maximum);

/// <summary>What a request got wrong, in Maximo's terms: BMXAA reason code, message, attribute.</summary>
public sealed record MaximoProblem(string ReasonCode, string Message, string? Attribute = null);

/// <summary>
/// A Maximo object structure's JSON schema (the shape of <c>GET /oslc/jsonschemas/{os}</c>) loaded as rules: attribute
/// types and Maximo sub-types, lengths, defaults, the primary key and the required attributes. The Maximo stub checks
/// every create and update against it.
/// </summary>
public sealed class MaximoObjectSchema
{
    private MaximoObjectSchema(string resource, string title, IReadOnlyDictionary<string, MaximoField> attributes, IReadOnlyList<string> primaryKey,
        IReadOnlyList<string> required, JsonObject document)
    {
        Resource = resource;
        Title = title;
        Attributes = attributes;
        PrimaryKey = primaryKey;
        Required = required;
        Document = document;
    }

    /// <summary>MXAPIWODETAIL, MXAPISR.</summary>
    public string Resource { get; }

    /// <summary>The main object: WORKORDER, SR.</summary>
    public string Title { get; }

    public IReadOnlyDictionary<string, MaximoField> Attributes { get; }

    public IReadOnlyList<string> PrimaryKey { get; }

    public IReadOnlyList<string> Required { get; }

    /// <summary>The schema as loaded, served at <c>/oslc/jsonschemas/{os}</c>.</summary>
    public JsonObject Document { get; }

    public static MaximoObjectSchema Load(string json)
    {
        var document = JsonNode.Parse(json)!.AsObject();
        var attributes = new Dictionary<string, MaximoField>(StringComparer.Ordinal);
        foreach (var (name, node) in document["properties"]!.AsObject())
        {
            var p = node!.AsObject();
            attributes[name] = new MaximoField(name, (string)p["type"]!, (string?)p["subType"], (int?)p["maxLength"],
                p["default"]?.ToString(), (long?)p["minimum"], (long?)p["maximum"]);
        }

        return new MaximoObjectSchema((string)document["resource"]!, (string)document["title"]!, attributes,
            document["pk"]!.AsArray().Select(k => (string)k!).ToList(), document["required"]!.AsArray().Select(k => (string)k!).ToList(), document);
    }

    /// <summary>Every rule a create or an update (<c>x-method-override: PATCH</c>) must pass; null when acceptable.</summary>
    public MaximoProblem? Validate(JsonObject body, bool creating)
    {
        ArgumentNullException.ThrowIfNull(body);
        foreach (var (name, value) in body)
        {
            if (!Attributes.TryGetValue(name, out var attribute))
            {
                return new MaximoProblem("BMXAA8726E", $"The attribute {name} does not exist in the object structure {Resource} ({Title}).", name);
            }

            if (name == "href" || attribute.SubType == "BIGINT" && name.EndsWith("id", StringComparison.Ordinal))
            {
                return new MaximoProblem("BMXAA4013E", $"The {Title}.{name.ToUpperInvariant()} field is read-only; the system assigns it.", name);
            }

            if (!creating && PrimaryKey.Contains(name))
            {
                return new MaximoProblem("BMXAA4013E", $"The {Title}.{name.ToUpperInvariant()} field is part of the key and cannot be changed.", name);
            }

            if (Check(attribute, value) is { } problem)
            {
                return problem;
            }
        }

        if (creating)
        {
            foreach (var name in Required)
            {
                if (body[name] is null && Attributes[name].Default is null)
                {
                    return new MaximoProblem("BMXAA4195E", $"A value is required for the {name.ToUpperInvariant()} field on the {Title} object.", name);
                }
            }
        }

        return null;
    }

    /// <summary>Upper-cases UPPER attributes, as Maximo does when it sets them.</summary>
    public void Normalise(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        foreach (var name in body.Select(p => p.Key).ToList())
        {
            if (Attributes.TryGetValue(name, out var attribute) && attribute.SubType == "UPPER" && body[name] is JsonValue value && value.TryGetValue<string>(out var text))
            {
                body[name] = text.ToUpperInvariant();
            }
        }
    }

    private MaximoProblem? Check(MaximoField attribute, JsonNode? value)
    {
        if (value is null)
        {
            return null;
        }

        var kind = value.GetValueKind();
        var label = $"{Title}.{attribute.Name.ToUpperInvariant()}";
        switch (attribute.Type)
        {
            case "integer" when kind != JsonValueKind.Number || !value.AsValue().TryGetValue<long>(out var number)
                || number < (attribute.Minimum ?? long.MinValue) || number > (attribute.Maximum ?? long.MaxValue):
                return new MaximoProblem("BMXAA4120E", $"The value {value.ToJsonString()} for {label} is not a valid integer.", attribute.Name);
            case "number" when kind != JsonValueKind.Number:
                return new MaximoProblem("BMXAA4120E", $"The value {value.ToJsonString()} for {label} is not a valid number.", attribute.Name);
            case "boolean" when kind is not (JsonValueKind.True or JsonValueKind.False):
                return new MaximoProblem("BMXAA4120E", $"The value {value.ToJsonString()} for {label} is not a valid boolean.", attribute.Name);
            case "string" when kind != JsonValueKind.String:
                return new MaximoProblem("BMXAA4120E", $"The value {value.ToJsonString()} for {label} must be a string.", attribute.Name);
            case "string" when attribute.SubType == "DATETIME"
                && !DateTimeOffset.TryParseExact(value.GetValue<string>(), "yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                return new MaximoProblem("BMXAA4144E", $"The value {value.ToJsonString()} for {label} is not a valid ISO 8601 date and time with an offset.", attribute.Name);
            case "string" when attribute.MaxLength is { } max && value.GetValue<string>().Length > max:
                return new MaximoProblem("BMXAA4049E",
                    string.Create(CultureInfo.InvariantCulture, $"The value specified for {label} exceeds the maximum field length of {max} ({value.GetValue<string>().Length} characters)."),
                    attribute.Name);
            default:
                return null;
        }
    }
}
