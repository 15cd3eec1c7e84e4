using System.Collections;
using System.Runtime;
using System.Text.Json;

namespace PdM.Benchmarks.Ingest;

/// <summary>
/// Makes the gateway a benchmark hosts run on the runtime settings the gateway ships with. The settings that move the
/// figures (the GC's kind, the thread pool's spinning) are chosen for a small edge box in
/// <c>edge/PdM.Edge.Gateway/GatewayRuntime.props</c>, which the gateway and the benchmarks that host it both import; the
/// build copies the gateway's own <c>PdM.Edge.Gateway.runtimeconfig.json</c> next to this one. A benchmark whose
/// runtime differs (a csproj that stopped importing the file) measures another product: it refuses to start. Runtime
/// variables in the environment are allowed, for trying a setting out, and named on every run so that such figures are
/// never mistaken for the shipped gateway's; the harness's own (<c>PDM_BENCH_HARNESS_RUNTIME</c>: when code tiers up
/// during the warm-up, not the code the steady state runs) are not counted as such.
/// </summary>
internal static class ShippedRuntime
{
    private static readonly string[] Measured = ["System.GC.", "System.Threading."];

    private static readonly string[] RuntimeVariables = ["DOTNET_gc", "DOTNET_GC", "DOTNET_ThreadPool_", "DOTNET_Tiered", "DOTNET_TC_", "DOTNET_ReadyToRun"];

    /// <summary>Throws when this process's runtimeconfig differs from the gateway's; returns a line describing the runtime.</summary>
    public static string Verify()
    {
        var shipped = Properties(Path.Combine(AppContext.BaseDirectory, "PdM.Edge.Gateway.runtimeconfig.json"));
        var ours = Properties(Path.Combine(AppContext.BaseDirectory, AppDomain.CurrentDomain.FriendlyName + ".runtimeconfig.json"));
        var differences = shipped.Keys.Union(ours.Keys)
            .Where(key => Measured.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal)))
            .Where(key => shipped.GetValueOrDefault(key) != ours.GetValueOrDefault(key))
            .Select(key => $"{key}: gateway {shipped.GetValueOrDefault(key) ?? "(default)"}, benchmark {ours.GetValueOrDefault(key) ?? "(default)"}")
            .ToList();
        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                "the benchmark would host the gateway on other runtime settings than it ships with (import edge/PdM.Edge.Gateway/GatewayRuntime.props): "
                + string.Join("; ", differences));
        }

        var harness = (Environment.GetEnvironmentVariable("PDM_BENCH_HARNESS_RUNTIME") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var overrides = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .Select(e => (Name: (string)e.Key, Value: e.Value as string))
            .Where(e => RuntimeVariables.Any(prefix => e.Name.StartsWith(prefix, StringComparison.Ordinal)) && !harness.Contains(e.Name))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => $"{e.Name}={e.Value}")
            .ToList();
        var settings = $"gc={(GCSettings.IsServerGC ? "server" : "workstation")} concurrent={GCSettings.LatencyMode != GCLatencyMode.Batch} "
            + $"spin_limit={shipped.GetValueOrDefault("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit") ?? "(default)"}";
        return overrides.Count == 0
            ? $"{settings}, as the gateway ships"
            : $"{settings}; NOT as the gateway ships, overridden by the environment: {string.Join(' ', overrides)}";
    }

    private static Dictionary<string, string> Properties(string runtimeConfig)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        if (document.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var config))
        {
            foreach (var property in config.EnumerateObject())
            {
                properties[property.Name] = property.Value.ToString();
            }
        }

        return properties;
    }
}
