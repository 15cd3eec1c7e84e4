using System.Globalization;
using System.Text.RegularExpressions;

namespace PdM.Rules;

/// <summary>
/// Checks what a ruleset file declares about itself: its identity (name, version and asset class, repeated by its file
/// name and folder, and the healthy confidence) and its facts (names usable as identifiers, units, no duplicates).
/// Every problem is added to the list; a null result means the declaration is unusable.
/// </summary>
internal static partial class RulesetDeclarationValidator
{
    public static RulesetHeader? ValidateHeader(string path, string sha, RulesetDocument document, List<RulesetProblem> problems)
    {
        var before = problems.Count;
        if (string.IsNullOrWhiteSpace(document.Name) || !NamePattern().IsMatch(document.Name))
        {
            problems.Add(new(path, null, $"'name' must match {NamePattern()} (got '{document.Name}')"));
        }

        if (string.IsNullOrWhiteSpace(document.AssetClass) || !NamePattern().IsMatch(document.AssetClass))
        {
            problems.Add(new(path, null, $"'assetClass' must match {NamePattern()} (got '{document.AssetClass}')"));
        }

        Version? version = null;
        if (document.Version is null || !VersionPattern().IsMatch(document.Version) || !System.Version.TryParse(document.Version, out version))
        {
            problems.Add(new(path, null, $"'version' must be major.minor.patch (got '{document.Version}')"));
        }

        if (document.HealthyConfidence is not { } healthy || !(healthy >= 0 && healthy <= 1))
        {
            problems.Add(new(path, null, $"'healthyConfidence' must be a number in [0, 1] (got {Format(document.HealthyConfidence)})"));
        }

        if (problems.Count > before)
        {
            return null;
        }

        // The file name and folder repeat the identity so that a directory listing tells what answers for whom.
        var expectedFile = $"{document.Name}@{document.Version}{RulesetCompiler.FileExtension}";
        if (!string.Equals(Path.GetFileName(path), expectedFile, StringComparison.Ordinal))
        {
            problems.Add(new(path, null, $"file name must be '{expectedFile}' to match its name and version"));
        }

        var folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)));
        if (!string.Equals(folder, document.AssetClass, StringComparison.Ordinal))
        {
            problems.Add(new(path, null, $"must sit in a folder named after its asset class '{document.AssetClass}' (found in '{folder}')"));
        }

        if (problems.Count > before)
        {
            return null;
        }

        return new RulesetHeader(
            document.Name!, document.Version!, version!, document.AssetClass!, path, sha, document.Description,
            document.Sources is null ? [] : [.. document.Sources], document.HealthyConfidence!.Value);
    }

    public static List<FactDefinition>? ValidateFacts(string path, RulesetDocument document, List<RulesetProblem> problems)
    {
        var before = problems.Count;
        var facts = new List<FactDefinition>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (document.Facts is not { Count: > 0 })
        {
            problems.Add(new(path, null, "'facts' must declare at least one input fact"));
            return null;
        }

        foreach (var fact in document.Facts)
        {
            if (CheckFactName(path, fact.Name, fact.Unit, seen, problems))
            {
                facts.Add(new FactDefinition(fact.Name!, fact.Unit!, fact.Description, null));
            }
        }

        foreach (var fact in document.DerivedFacts ?? [])
        {
            if (string.IsNullOrWhiteSpace(fact.Expression))
            {
                problems.Add(new(path, null, $"derived fact '{fact.Name}' has no 'expression'"));
                continue;
            }

            if (CheckFactName(path, fact.Name, fact.Unit, seen, problems))
            {
                facts.Add(new FactDefinition(fact.Name!, fact.Unit!, fact.Description, fact.Expression));
            }
        }

        return problems.Count > before ? null : facts;
    }

    private static bool CheckFactName(string path, string? name, string? unit, HashSet<string> seen, List<RulesetProblem> problems)
    {
        if (string.IsNullOrEmpty(name) || !FactPattern().IsMatch(name))
        {
            problems.Add(new(path, null, $"fact name '{name}' must match {FactPattern()} (it is an identifier in rule expressions)"));
            return false;
        }

        if (!seen.Add(name))
        {
            problems.Add(new(path, null, $"fact '{name}' is declared twice"));
            return false;
        }

        if (string.IsNullOrWhiteSpace(unit))
        {
            problems.Add(new(path, null, $"fact '{name}' has no 'unit' (evidence carries it)"));
            return false;
        }

        return true;
    }

    /// <summary>A number as a problem message quotes it.</summary>
    internal static string Format(double? value) =>
        value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "nothing";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex FactPattern();

    [GeneratedRegex(@"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();
}
