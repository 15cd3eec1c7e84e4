using Microsoft.Extensions.Options;
using PdM.Features;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// One feature spec the gateway runs, with what every window of it carries downstream: the feature names in value
/// order (the model's input columns and the rules' fact names), a short name for people and the spec digest
/// (<see cref="FeatureSpecDigest"/>) that the feature store and the model package compare.
/// </summary>
public sealed class ClassFeatureSpec
{
    internal ClassFeatureSpec(string name, FeatureSpec spec)
    {
        Name = name;
        Spec = spec;
        Digest = FeatureSpecDigest.Compute(spec);
        var names = new string[spec.Features.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = spec.Features[i].Name;
        }

        FeatureNames = names;
    }

    /// <summary>The spec file's name without extension (e.g. <c>turbofan-fd001</c>), or <c>default</c>.</summary>
    public string Name { get; }

    public FeatureSpec Spec { get; }

    public string Digest { get; }

    public IReadOnlyList<string> FeatureNames { get; }
}

/// <summary>
/// Which feature spec each asset class runs: <c>Gateway:FeatureSpecs:{assetClass}</c>, else the default
/// (<c>Gateway:FeatureSpecPath</c> or <see cref="DefaultFeatureSpec"/>). Classes that name the same file share one spec.
/// </summary>
public sealed class FeatureSpecCatalog
{
    public const string DefaultName = "default";

    private readonly Dictionary<string, ClassFeatureSpec> _byClass;

    private FeatureSpecCatalog(ClassFeatureSpec fallback, Dictionary<string, ClassFeatureSpec> byClass, IReadOnlyList<ClassFeatureSpec> all)
    {
        Default = fallback;
        _byClass = byClass;
        All = all;
    }

    /// <summary>The spec of every class not listed in <c>Gateway:FeatureSpecs</c>.</summary>
    public ClassFeatureSpec Default { get; }

    /// <summary>Every distinct spec, the default first.</summary>
    public IReadOnlyList<ClassFeatureSpec> All { get; }

    public ClassFeatureSpec For(string assetClass) =>
        _byClass.TryGetValue(assetClass, out var spec) ? spec : Default;

    /// <summary>Reads and validates every configured spec.</summary>
    /// <exception cref="OptionsValidationException">A file is missing or its spec is invalid; the message names the key and the file.</exception>
    public static FeatureSpecCatalog Load(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options, out var catalog);
        return problems.Count == 0
            ? catalog!
            : throw new OptionsValidationException(GatewayOptions.Section, typeof(GatewayOptions), problems);
    }

    /// <summary>Every problem of the configured specs (empty when they all load); the catalog when there is none.</summary>
    public static IReadOnlyList<string> Problems(GatewayOptions options, out FeatureSpecCatalog? catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        var byPath = new Dictionary<string, ClassFeatureSpec>(StringComparer.Ordinal);
        var all = new List<ClassFeatureSpec>();
        var fallback = TryLoad("Gateway:FeatureSpecPath", options.FeatureSpecPath, byPath, all, problems);
        var byClass = new Dictionary<string, ClassFeatureSpec>(StringComparer.Ordinal);
        foreach (var (assetClass, path) in options.FeatureSpecs)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                problems.Add($"Gateway:FeatureSpecs:{assetClass} is empty: name a FeatureSpec JSON file, or remove the key to use the default spec");
                continue;
            }

            if (TryLoad($"Gateway:FeatureSpecs:{assetClass}", path, byPath, all, problems) is { } spec)
            {
                byClass[assetClass] = spec;
            }
        }

        catalog = problems.Count == 0 && fallback is not null ? new FeatureSpecCatalog(fallback, byClass, all) : null;
        return problems;
    }

    /// <summary>
    /// A spec path as configured: absolute, or relative to the app's base directory or to any folder above it, so the
    /// repository's <c>edge/PdM.Edge.Gateway/specs/…</c> resolves from a build output inside a checkout. Null when not found.
    /// </summary>
    public static string? Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Path.IsPathRooted(path))
        {
            return File.Exists(path) ? path : null;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, path);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists(path) ? Path.GetFullPath(path) : null;
    }

    private static ClassFeatureSpec? TryLoad(string key, string? path, Dictionary<string, ClassFeatureSpec> byPath, List<ClassFeatureSpec> all, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return Remember(DefaultName, DefaultFeatureSpec.Json, byPath, all, key, problems);
        }

        var resolved = Resolve(path);
        if (resolved is null)
        {
            problems.Add($"{key}: feature spec file '{path}' not found (relative paths are looked up under {AppContext.BaseDirectory} and the folders above it)");
            return null;
        }

        string json;
        try
        {
            json = File.ReadAllText(resolved);
        }
        catch (IOException exception)
        {
            problems.Add($"{key}: cannot read '{resolved}': {exception.Message}");
            return null;
        }

        return Remember(Path.GetFileNameWithoutExtension(resolved), json, byPath, all, key + " (" + resolved + ")", problems);
    }

    private static ClassFeatureSpec? Remember(string name, string json, Dictionary<string, ClassFeatureSpec> byJson, List<ClassFeatureSpec> all, string key, List<string> problems)
    {
        FeatureSpec spec;
        try
        {
            spec = FeatureSpec.Parse(json);
        }
        catch (FeatureSpecException exception)
        {
            problems.Add($"{key}: {exception.Message}");
            return null;
        }

        // Keyed by canonical JSON: two files with the same spec share one engine and one digest.
        var canonical = spec.ToJson();
        if (!byJson.TryGetValue(canonical, out var loaded))
        {
            loaded = new ClassFeatureSpec(name, spec);
            byJson.Add(canonical, loaded);
            all.Add(loaded);
        }

        return loaded;
    }
}

/// <summary>Fails the start when a configured feature spec is missing or invalid (ValidateOnStart).</summary>
public sealed class FeatureSpecsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = FeatureSpecCatalog.Problems(options, out _);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
