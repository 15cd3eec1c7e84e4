using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdM.Edge.Inference;

/// <summary>The inference component's meter and activity source (one per component, see HOUSE-STYLE.md).</summary>
public sealed class InferenceTelemetry : IDisposable
{
    public const string MeterName = "PdM.Edge.Inference";

    private readonly Meter _meter;
    private readonly Counter<long> _decisions;
    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _rollbacks;
    private readonly Counter<long> _loads;
    private readonly Counter<long> _shadowCompared;
    private readonly Counter<long> _shadowAgreed;

    public InferenceTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _decisions = _meter.CreateCounter<long>("pdm.decisions", description: "Decisions by deciding path and fallback reason.");
        _duration = _meter.CreateHistogram<double>("pdm.inference.duration", unit: "ms", description: "ONNX Runtime time per batch.");
        _batchSize = _meter.CreateHistogram<int>("pdm.inference.batch.size", unit: "{row}", description: "Rows per ONNX Runtime call.");
        _rollbacks = _meter.CreateCounter<long>("pdm.models.rollbacks", description: "Automatic rollbacks to the previous model version.");
        _loads = _meter.CreateCounter<long>("pdm.models.loads", description: "Package loads by result (loaded or the rejection code).");
        _shadowCompared = _meter.CreateCounter<long>("pdm.models.shadow.compared", unit: "{row}",
            description: "Rows production and the shadow candidate both scored and whose health states were compared, by candidate.");
        _shadowAgreed = _meter.CreateCounter<long>("pdm.models.shadow.agreed", unit: "{row}",
            description: "Compared rows on which the shadow candidate gave production's health state, by candidate.");
        // At 0 from the start: the alerts (PdmModelRolledBack, PdmFallbackRateHigh) and the dashboards see "none yet",
        // not "no such metric". Every fallback reason is a fixed code, so each rules path starts at 0 too.
        _rollbacks.Add(0);
        Decision("model", "none", 0);
        foreach (var reason in Enum.GetValues<FallbackReason>())
        {
            Decision("rules", reason.ToCode(), 0);
        }
    }

    public static ActivitySource ActivitySource { get; } = new(MeterName);

    /// <summary>The meter behind the instruments, for listeners (tests, exporters that filter by instance).</summary>
    public Meter Meter => _meter;

    public void Decision(string path, string reason, long count = 1) =>
        _decisions.Add(count, new KeyValuePair<string, object?>("path", path), new KeyValuePair<string, object?>("reason", reason));

    public void Batch(double milliseconds, int rows, string provider, string model, string version)
    {
        var tags = new TagList
        {
            { "provider", provider },
            { "model", model },
            { "model.version", version },
        };
        _duration.Record(milliseconds, tags);
        _batchSize.Record(rows, tags);
    }

    public void Rollback(string assetClass) => _rollbacks.Add(1, new KeyValuePair<string, object?>("asset_class", assetClass));

    /// <summary>One batch of the shadow comparison of <paramref name="candidate"/>: agreement = agreed / compared.</summary>
    public void Shadow(string assetClass, ModelIdentity candidate, int compared, int agreed)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var tags = new TagList
        {
            { "asset_class", assetClass },
            { "model", candidate.Name },
            { "model.version", candidate.Version },
        };
        _shadowCompared.Add(compared, tags);
        _shadowAgreed.Add(agreed, tags);
    }

    public void Load(string result) => _loads.Add(1, new KeyValuePair<string, object?>("result", result));

    /// <summary>
    /// Exports the drift of every deciding version of <paramref name="slots"/> (once its window holds enough rows) as
    /// <c>pdm.models.drift.psi</c> per asset class, model, version and feature; a replaced version's series go with it.
    /// </summary>
    internal void Observe(ModelSlots slots)
    {
        _meter.CreateObservableGauge("pdm.models.drift.psi", () => DriftMeasurements(slots),
            description: "Population stability index of each feature over the last scored rows against the package's training distribution.");
        _meter.CreateObservableGauge("pdm.models.deciding_share", () => ShareMeasurements(slots),
            description: "Share of an asset class's assets each deciding version decides for, by role (production, canary): the canary share.");
    }

    /// <summary>Production decides for 1 − the canary's share (1 without a canary), the canary for its share.</summary>
    private static IEnumerable<Measurement<double>> ShareMeasurements(ModelSlots slots)
    {
        foreach (var slot in slots.All)
        {
            var canary = slot.Canary;
            var share = canary is null ? 0 : slot.CanaryShare ?? 0;
            if (slot.Current is { } production)
            {
                yield return Share(slot.AssetClass, production, "production", 1 - share);
            }

            if (canary is not null)
            {
                yield return Share(slot.AssetClass, canary, "canary", share);
            }
        }
    }

    private static Measurement<double> Share(string assetClass, ModelIdentity model, string role, double share) =>
        new(share, new TagList
        {
            { "asset_class", assetClass },
            { "model", model.Name },
            { "model.version", model.Version },
            { "role", role },
        });

    private static IEnumerable<Measurement<double>> DriftMeasurements(ModelSlots slots)
    {
        foreach (var slot in slots.All)
        {
            foreach (var (model, drift) in slot.DriftMonitors())
            {
                if (!drift.Ready)
                {
                    continue;
                }

                for (var f = 0; f < drift.FeatureNames.Count; f++)
                {
                    yield return new Measurement<double>(drift.Psi(f), new TagList
                    {
                        { "asset_class", slot.AssetClass },
                        { "model", model.Name },
                        { "model.version", model.Version },
                        { "feature", drift.FeatureNames[f] },
                    });
                }
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
