using System.Text.Json;
using System.Text.Json.Serialization;
using RulesEngine.Models;

namespace PdM.Rules;

/// <summary>
/// One ruleset file as written on disk: our manifest around one Microsoft RulesEngine workflow. Every member is
/// optional here so that a missing one becomes a validation problem naming the file, not a serializer exception.
/// </summary>
internal sealed class RulesetDocument
{
    public string? Name { get; set; }

    public string? Version { get; set; }

    public string? AssetClass { get; set; }

    public string? Description { get; set; }

    public List<string>? Sources { get; set; }

    /// <summary>Confidence of a healthy answer when every rule could be checked.</summary>
    public double? HealthyConfidence { get; set; }

    public List<FactDocument>? Facts { get; set; }

    public List<DerivedFactDocument>? DerivedFacts { get; set; }

    public Workflow? Workflow { get; set; }
}

internal sealed class FactDocument
{
    public string? Name { get; set; }

    public string? Unit { get; set; }

    public string? Description { get; set; }
}

internal sealed class DerivedFactDocument
{
    public string? Name { get; set; }

    public string? Unit { get; set; }

    public string? Expression { get; set; }

    public string? Description { get; set; }
}

/// <summary>
/// Comments and trailing commas are allowed so that a ruleset can cite its sources next to its limits; unknown
/// members are rejected because in a ruleset a misspelt key is a silently ignored limit. Reflection-based, not
/// source-generated: RulesEngine's <see cref="Rule"/> carries a non-generic JsonStringEnumConverter attribute that
/// the source generator cannot honour (SYSLIB1034), and rulesets are read at load, never per reading.
/// </summary>
internal static class RulesetJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new JsonStringEnumConverter() },
    };
}
