using System.Diagnostics.Metrics;

namespace PdM.Registry;

/// <summary>The registry's meter: what the model-governance dashboard shows.</summary>
public sealed class RegistryTelemetry : IDisposable
{
    public const string MeterName = "PdM.Registry";

    /// <summary>Spans of the module's long-running work (model registrations and promotions).</summary>
    public static System.Diagnostics.ActivitySource ActivitySource { get; } = new(MeterName);

    private readonly Meter _meter;

    public RegistryTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        Uploads = _meter.CreateCounter<long>("pdm.registry.uploads", description: "Model version uploads by result (accepted or the rejection code).");
        Promotions = _meter.CreateCounter<long>("pdm.registry.promotions", description: "Promotions by target stage.");
        PromotionsRefused = _meter.CreateCounter<long>("pdm.registry.promotions_refused", description: "Promotions refused, by reason (four_eyes, role_required, ...).");
        Heartbeats = _meter.CreateCounter<long>("pdm.registry.gateway_heartbeats", description: "Gateway heartbeats received and stored (GET /api/gateways).");
        DeploymentReports = _meter.CreateCounter<long>("pdm.registry.deployment_reports", description: "Gateway deployment results and rollbacks received, by kind.");
        Outcomes = _meter.CreateCounter<long>("pdm.registry.outcomes", description: "Maintenance outcomes filed under the deciding model or ruleset, by result (failure_confirmed, no_fault_found, no_decider).");
    }

    public Counter<long> Uploads { get; }

    public Counter<long> Promotions { get; }

    public Counter<long> PromotionsRefused { get; }

    public Counter<long> DeploymentReports { get; }

    public Counter<long> Heartbeats { get; }

    public Counter<long> Outcomes { get; }

    public void Dispose() => _meter.Dispose();
}
