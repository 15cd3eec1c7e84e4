using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace PdM.Cmms.Stubs.Contracts;

/// <summary>One property of an OData V2 entity type, as its <c>$metadata</c> declares it.</summary>
public sealed record EdmProperty(string Name, string Type, bool Nullable, int? MaxLength, bool Creatable, bool Updatable, bool UpperCase);

/// <summary>A navigation property: its target type, whether it is a collection, and the keys the principal fills in.</summary>
public sealed record EdmNavigation(string Name, string TargetType, bool Many, IReadOnlySet<string> KeysFromPrincipal);

/// <summary>An entity type of an OData V2 service.</summary>
public sealed class EdmEntityType(string name, IReadOnlySet<string> keys, IReadOnlyDictionary<string, EdmProperty> properties,
    IReadOnlyDictionary<string, EdmNavigation> navigations)
{
    public string Name { get; } = name;

    public IReadOnlySet<string> Keys { get; } = keys;

    public IReadOnlyDictionary<string, EdmProperty> Properties { get; } = properties;

    public IReadOnlyDictionary<string, EdmNavigation> Navigations { get; } = navigations;
}

/// <summary>What a request got wrong, in SAP Gateway's terms: message code, text, and the property it is about.</summary>
public sealed record ODataProblem(string Code, string Message, string? Property = null);

/// <summary>
/// An OData V2 service's <c>$metadata</c> (EDMX) loaded as rules: entity sets, entity types, property types and lengths,
/// <c>Nullable</c>, <c>sap:creatable</c>/<c>sap:updatable</c>, <c>sap:display-format</c>, deep-insert navigations and
/// the insert/update restrictions of each set. The SAP stub checks every create and update against it.
/// </summary>
public sealed partial class ODataV2Metadata
{
    private static readonly XNamespace Edm = "http://schemas.microsoft.com/ado/2008/09/edm";
    private static readonly XNamespace Sap = "http://www.sap.com/Protocols/SAPData";
    private static readonly XNamespace Vocabulary = "http://docs.oasis-open.org/odata/ns/edm";

    private readonly Dictionary<string, EdmEntityType> _sets;
    private readonly Dictionary<string, HashSet<string>> _requiredOnInsert;
    private readonly Dictionary<string, HashSet<string>> _nonUpdatable;

    private ODataV2Metadata(string document, Dictionary<string, EdmEntityType> sets, Dictionary<string, HashSet<string>> requiredOnInsert,
        Dictionary<string, HashSet<string>> nonUpdatable)
    {
        Document = document;
        _sets = sets;
        _requiredOnInsert = requiredOnInsert;
        _nonUpdatable = nonUpdatable;
    }

    /// <summary>The EDMX text, served at <c>$metadata</c>.</summary>
    public string Document { get; }

    public IReadOnlyDictionary<string, EdmEntityType> EntitySets => _sets;

    public static ODataV2Metadata Load(string edmx)
    {
        var root = XDocument.Parse(edmx);
        var schema = root.Descendants(Edm + "Schema").Single();
        var ns = (string)schema.Attribute("Namespace")!;
        var associations = schema.Elements(Edm + "Association").ToDictionary(a => $"{ns}.{(string)a.Attribute("Name")!}", a => a);
        var types = new Dictionary<string, EdmEntityType>(StringComparer.Ordinal);
        foreach (var type in schema.Elements(Edm + "EntityType"))
        {
            var name = (string)type.Attribute("Name")!;
            var keys = type.Element(Edm + "Key")!.Elements(Edm + "PropertyRef").Select(k => (string)k.Attribute("Name")!).ToHashSet(StringComparer.Ordinal);
            var properties = type.Elements(Edm + "Property").Select(Property).ToDictionary(p => p.Name, StringComparer.Ordinal);
            var navigations = new Dictionary<string, EdmNavigation>(StringComparer.Ordinal);
            foreach (var navigation in type.Elements(Edm + "NavigationProperty"))
            {
                var association = associations[(string)navigation.Attribute("Relationship")!];
                var toRole = (string)navigation.Attribute("ToRole")!;
                var end = association.Elements(Edm + "End").Single(e => (string)e.Attribute("Role")! == toRole);
                var dependent = association.Descendants(Edm + "Dependent").SingleOrDefault(d => (string)d.Attribute("Role")! == toRole);
                var fromPrincipal = dependent?.Elements(Edm + "PropertyRef").Select(r => (string)r.Attribute("Name")!).ToHashSet(StringComparer.Ordinal)
                    ?? [];
                var target = ((string)end.Attribute("Type")!)[(ns.Length + 1)..];
                navigations[(string)navigation.Attribute("Name")!] = new EdmNavigation((string)navigation.Attribute("Name")!, target,
                    (string)end.Attribute("Multiplicity")! == "*", fromPrincipal);
            }

            types[name] = new EdmEntityType(name, keys, properties, navigations);
        }

        var sets = new Dictionary<string, EdmEntityType>(StringComparer.Ordinal);
        var required = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var nonUpdatable = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var container = schema.Element(Edm + "EntityContainer")!;
        foreach (var set in container.Elements(Edm + "EntitySet"))
        {
            var setName = (string)set.Attribute("Name")!;
            sets[setName] = types[((string)set.Attribute("EntityType")!)[(ns.Length + 1)..]];
            var target = $"{ns}.{(string)container.Attribute("Name")!}/{setName}";
            var annotations = schema.Elements(Vocabulary + "Annotations").Where(a => (string)a.Attribute("Target")! == target).Elements(Vocabulary + "Annotation").ToList();
            required[setName] = Paths(annotations, "Capabilities.InsertRestrictions", "RequiredProperties");
            nonUpdatable[setName] = Paths(annotations, "Capabilities.UpdateRestrictions", "NonUpdatableProperties");
            nonUpdatable[setName].UnionWith(Paths(annotations, "Capabilities.UpdateRestrictions", "NonUpdatableNavigationProperties"));
        }

        return new ODataV2Metadata(edmx, sets, required, nonUpdatable);
    }

    /// <summary>Every rule a create (deep insert included) must pass; null when the body is acceptable.</summary>
    public ODataProblem? ValidateCreate(string entitySet, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var type = _sets[entitySet];
        if (ValidateCreate(type, body, new HashSet<string>()) is { } problem)
        {
            return problem;
        }

        foreach (var name in _requiredOnInsert[entitySet])
        {
            if (body[name] is null)
            {
                return new ODataProblem("/IWBEP/CM_MGW_RT/030", $"Property '{name}' is mandatory when creating an entity of type '{type.Name}'.", name);
            }
        }

        return null;
    }

    /// <summary>Every rule a MERGE/PATCH must pass; null when the body is acceptable.</summary>
    public ODataProblem? ValidateUpdate(string entitySet, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var type = _sets[entitySet];
        foreach (var (name, value) in body)
        {
            if (name == "__metadata")
            {
                continue;
            }

            if (type.Navigations.ContainsKey(name) || _nonUpdatable[entitySet].Contains(name))
            {
                return new ODataProblem("/IWBEP/CM_MGW_RT/024", $"Property '{name}' of entity type '{type.Name}' cannot be changed.", name);
            }

            if (!type.Properties.TryGetValue(name, out var property))
            {
                return Unknown(type, name);
            }

            if (!property.Updatable)
            {
                return new ODataProblem("/IWBEP/CM_MGW_RT/024", $"Property '{name}' of entity type '{type.Name}' is not updatable (sap:updatable=false).", name);
            }

            if (Check(property, value) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    /// <summary>Upper-cases the values of <c>sap:display-format="UpperCase"</c> properties, as SAP's input conversion does.</summary>
    public void Normalise(string entitySet, JsonObject body) => Normalise(_sets[entitySet], body);

    private ODataProblem? ValidateCreate(EdmEntityType type, JsonObject body, IReadOnlySet<string> fromPrincipal)
    {
        foreach (var (name, value) in body)
        {
            if (name == "__metadata")
            {
                continue;
            }

            if (type.Navigations.TryGetValue(name, out var navigation))
            {
                if (Children(navigation, value) is not { } children)
                {
                    return new ODataProblem("/IWBEP/CM_MGW_RT/020",
                        $"Navigation property '{name}' must be {(navigation.Many ? "{\"results\":[…]}" : "an object")} for a deep insert.", name);
                }

                foreach (var child in children)
                {
                    if (child is not JsonObject childObject)
                    {
                        return new ODataProblem("/IWBEP/CM_MGW_RT/020", $"An entry of '{name}' must be an object.", name);
                    }

                    if (ValidateCreate(_sets.Values.First(t => t.Name == navigation.TargetType), childObject, navigation.KeysFromPrincipal) is { } childProblem)
                    {
                        return childProblem;
                    }
                }

                continue;
            }

            if (!type.Properties.TryGetValue(name, out var property))
            {
                return Unknown(type, name);
            }

            if (!property.Creatable)
            {
                return new ODataProblem("/IWBEP/CM_MGW_RT/023", $"Property '{name}' of entity type '{type.Name}' cannot be set on create (sap:creatable=false).", name);
            }

            if (fromPrincipal.Contains(name))
            {
                // The principal's key is taken over in a deep insert; a different value would point elsewhere.
                return new ODataProblem("/IWBEP/CM_MGW_RT/023", $"Property '{name}' of entity type '{type.Name}' is filled from the parent in a deep insert.", name);
            }

            if (Check(property, value) is { } problem)
            {
                return problem;
            }
        }

        foreach (var property in type.Properties.Values)
        {
            // Keys of dependents are numbered by the server in a deep insert; other non-nullable properties are mandatory.
            if (!property.Nullable && property.Creatable && !type.Keys.Contains(property.Name) && body[property.Name] is null)
            {
                return new ODataProblem("/IWBEP/CM_MGW_RT/030", $"Property '{property.Name}' is mandatory when creating an entity of type '{type.Name}'.", property.Name);
            }
        }

        return null;
    }

    private void Normalise(EdmEntityType type, JsonObject body)
    {
        foreach (var name in body.Select(p => p.Key).ToList())
        {
            if (type.Navigations.TryGetValue(name, out var navigation) && Children(navigation, body[name]) is { } children)
            {
                var target = _sets.Values.First(t => t.Name == navigation.TargetType);
                foreach (var child in children.OfType<JsonObject>())
                {
                    Normalise(target, child);
                }
            }
            else if (type.Properties.TryGetValue(name, out var property) && property.UpperCase && body[name] is JsonValue value
                && value.TryGetValue<string>(out var text))
            {
                body[name] = text.ToUpperInvariant();
            }
        }
    }

    private static List<JsonNode?>? Children(EdmNavigation navigation, JsonNode? value) =>
        navigation.Many
            ? value is JsonObject wrapper && wrapper["results"] is JsonArray results ? [.. results] : null
            : value is JsonObject one ? [one] : null;

    private static ODataProblem Unknown(EdmEntityType type, string name) =>
        new("/IWBEP/CM_MGW_RT/020", $"Property '{name}' is invalid: entity type '{type.Name}' has no such property.", name);

    private static ODataProblem? Check(EdmProperty property, JsonNode? value)
    {
        if (value is null)
        {
            return property.Nullable ? null : Invalid(property, "null", "a value (the property is not nullable)");
        }

        var kind = value.GetValueKind();
        var text = kind == JsonValueKind.String ? value.GetValue<string>() : null;
        return property.Type switch
        {
            "Edm.String" when text is null => Invalid(property, value.ToJsonString(), "Edm.String"),
            "Edm.String" when property.MaxLength is { } max && text.Length > max => new ODataProblem("/IWBEP/CM_MGW_RT/022",
                string.Create(CultureInfo.InvariantCulture, $"Property '{property.Name}' has {text.Length} characters; its maximum length is {max}."), property.Name),
            "Edm.Boolean" when kind is not (JsonValueKind.True or JsonValueKind.False) => Invalid(property, value.ToJsonString(), "Edm.Boolean"),
            "Edm.DateTime" or "Edm.DateTimeOffset" when text is null || !DatePattern().IsMatch(text) => Invalid(property, value.ToJsonString(), $"{property.Type} as /Date(ms)/"),
            "Edm.Time" when text is null || !TimePattern().IsMatch(text) => Invalid(property, value.ToJsonString(), "Edm.Time as PT..H..M..S"),
            "Edm.Int32" when kind != JsonValueKind.Number || !value.AsValue().TryGetValue<int>(out _) => Invalid(property, value.ToJsonString(), "Edm.Int32"),
            "Edm.Double" when kind != JsonValueKind.Number && (text is null || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) =>
                Invalid(property, value.ToJsonString(), "Edm.Double"),
            "Edm.Decimal" when text is null || !decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out _) =>
                Invalid(property, value.ToJsonString(), "Edm.Decimal as a string"),
            _ => null,
        };
    }

    private static ODataProblem Invalid(EdmProperty property, string value, string expected) =>
        new("/IWBEP/CM_MGW_RT/022", $"Property '{property.Name}' has invalid value {value}: expected {expected}.", property.Name);

    private static EdmProperty Property(XElement p)
    {
        var maxLength = (string?)p.Attribute("MaxLength");
        return new EdmProperty(
            (string)p.Attribute("Name")!,
            (string)p.Attribute("Type")!,
            (string?)p.Attribute("Nullable") != "false",
            maxLength is null ? null : int.Parse(maxLength, CultureInfo.InvariantCulture),
            (string?)p.Attribute(Sap + "creatable") != "false",
            (string?)p.Attribute(Sap + "updatable") != "false",
            (string?)p.Attribute(Sap + "display-format") == "UpperCase");
    }

    private static HashSet<string> Paths(List<XElement> annotations, string term, string property) =>
        annotations.Where(a => (string)a.Attribute("Term")! == term)
            .Descendants(Vocabulary + "PropertyValue").Where(v => (string)v.Attribute("Property")! == property)
            .Descendants(Vocabulary + "PropertyPath").Select(p => p.Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex("^/Date\\(-?\\d+([+-]\\d{4})?\\)/$")]
    private static partial Regex DatePattern();

    [GeneratedRegex("^PT\\d{1,2}H\\d{1,2}M\\d{1,2}S$")]
    private static partial Regex TimePattern();
}
