using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace PdM.Rules;

/// <summary>Where the rulesets live and how changes are picked up (configuration section <c>Rules</c>).</summary>
public sealed class RulesetStoreOptions
{
    public const string SectionName = "Rules";

    /// <summary>Root folder holding <c>{assetClass}/{name}@{version}.json</c>; relative paths start at the app's base directory.</summary>
    [Required]
    public string Directory { get; set; } = "rulesets";

    /// <summary>Reload when a file under <see cref="Directory"/> changes.</summary>
    public bool WatchForChanges { get; set; } = true;

    /// <summary>Quiet time after the last file event before reloading: an editor or a copy raises several events per save.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(500);

    public string ResolveDirectory() => Path.GetFullPath(Directory, AppContext.BaseDirectory);
}

/// <summary>A missing rulesets folder is a deployment error worth failing start for; a bad file in it is not.</summary>
public sealed class RulesetStoreOptionsValidator : IValidateOptions<RulesetStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RulesetStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            return ValidateOptionsResult.Fail("Rules:Directory is required");
        }

        var directory = options.ResolveDirectory();
        return System.IO.Directory.Exists(directory)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Rules:Directory '{directory}' does not exist");
    }
}
