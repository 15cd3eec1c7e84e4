using PdM.Hosting;
using PdM.Lineage;
using PdM.Maintenance;
using PdM.Registry;
using PdM.Telemetry;

namespace PdM.Host;

/// <summary>The cloud modules this executable can host, and the selection <c>PdM:Modules</c> makes of them.</summary>
public static class ModuleCatalog
{
    public const string ConfigurationKey = "PdM:Modules";

    public static IReadOnlyList<PdMModule> All { get; } = [MaintenanceModule.Descriptor, TelemetryModule.Descriptor, RegistryModule.Descriptor, LineageModule.Descriptor];

    /// <summary>
    /// Reads <c>PdM:Modules</c> as "all" (the default), a comma-separated string or an array. An unknown name fails
    /// the start with the list of known ones: a typo must not silently run nothing.
    /// </summary>
    public static IReadOnlyList<PdMModule> Select(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(ConfigurationKey);
        var names = section.GetChildren().Select(c => c.Value).OfType<string>().ToList();
        if (names.Count == 0)
        {
            names = (section.Value ?? "all").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }

        if (names.Count == 0 || names.Any(n => n.Equals("all", StringComparison.OrdinalIgnoreCase)))
        {
            return All;
        }

        var selected = new List<PdMModule>();
        foreach (var name in names)
        {
            var module = All.FirstOrDefault(m => m.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException(
                    $"{ConfigurationKey} names unknown module '{name}'. Known: all, {string.Join(", ", All.Select(m => m.Name))}.");
            if (!selected.Contains(module))
            {
                selected.Add(module);
            }
        }

        return selected;
    }
}
