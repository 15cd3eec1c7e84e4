using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Persistence;

namespace PdM.Maintenance.Policy;

/// <summary>Builds the canonical <c>pdm.workorder/v1</c> payload from the case, its work order and the latest prediction.</summary>
public static class CanonicalWorkOrderBuilder
{
    public const string Detection = "continuous condition monitoring";

    public static CanonicalWorkOrder Build(
        WorkOrder workOrder, MaintenanceCase @case, FailurePredicted prediction, ResolvedAsset asset, FailureModeOptions mode, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workOrder);
        ArgumentNullException.ThrowIfNull(@case);
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(asset);
        ArgumentNullException.ThrowIfNull(mode);

        var registry = asset.Asset;
        var rul = prediction.RemainingUsefulLife;
        var quantiles = rul is null ? null : new RulQuantiles { P10 = rul.P10, P50 = rul.P50, P90 = rul.P90 };
        var evidence = new List<CanonicalEvidence>(prediction.Evidence.Count);
        foreach (var e in prediction.Evidence)
        {
            evidence.Add(new CanonicalEvidence
            {
                Signal = e.Signal, Value = e.Value, Unit = e.Unit, Limit = e.Limit, From = e.WindowStart, To = e.WindowEnd, Source = e.Source,
            });
        }

        var provenance = prediction.Provenance;
        var isModel = provenance.Path == DecisionPath.Model;
        var rulText = CasePolicy.RulHours(prediction) is { } hours ? $", RUL ~{CasePolicy.Invariant(hours)} h" : "";
        var item = registry.MaintainableItem ?? prediction.AssetId;
        return new CanonicalWorkOrder
        {
            ExternalKey = workOrder.ExternalKey,
            WorkOrderId = workOrder.Id,
            CaseId = @case.Id,
            SiteId = prediction.SiteId,
            Kind = workOrder.Kind,
            Asset = new CanonicalAsset
            {
                Id = prediction.AssetId,
                EquipmentClass = registry.EquipmentClass,
                Subunit = registry.Subunit,
                MaintainableItem = registry.MaintainableItem,
                Criticality = workOrder.Criticality,
                CmmsRef = new CmmsReferences
                {
                    Maximo = registry.Maximo is { } mx
                        ? new MaximoAssetReference { SiteId = mx.SiteId, AssetNum = mx.AssetNum, Location = mx.Location, FailureClass = mx.FailureClass ?? registry.EquipmentClass }
                        : null,
                    Sap = registry.Sap is { } sap
                        ? new SapTechnicalObjectReference { TechnicalObject = sap.TechnicalObject, Type = sap.Type, Plant = sap.Plant, WorkCenter = sap.WorkCenter, PlannerGroup = sap.PlannerGroup }
                        : null,
                },
            },
            Failure = new CanonicalFailure
            {
                Mode = prediction.FailureMode,
                Mechanism = mode.Mechanism,
                Cause = mode.Cause,
                Detection = Detection,
                Severity = prediction.Severity.ToString().ToLowerInvariant(),
            },
            Health = new CanonicalHealth { State = prediction.HealthState.ToString().ToLowerInvariant() },
            Prognosis = new CanonicalPrognosis
            {
                RulHours = rul is { Unit: RulUnit.Hours } ? quantiles : null,
                RulCycles = rul is { Unit: RulUnit.Cycles } ? quantiles : null,
                PredictedFailureAt = rul is { Unit: RulUnit.Hours } ? prediction.OccurredAt.AddHours(rul.P50) : null,
                Confidence = prediction.Confidence,
                Model = new CanonicalDecisionSource
                {
                    Path = isModel ? "model" : "rules",
                    Name = isModel ? provenance.ModelName : provenance.RulesetName,
                    Version = isModel ? provenance.ModelVersion : provenance.RulesetVersion,
                    Digest = provenance.ModelDigest,
                    Rule = provenance.RuleName,
                    FallbackReason = provenance.FallbackReason,
                    GatewayId = provenance.GatewayId,
                },
            },
            Evidence = evidence,
            Recommendation = new CanonicalRecommendation
            {
                Activity = mode.Activity,
                Text = mode.Recommendation ?? $"{mode.Activity} {item}: {prediction.FailureMode} predicted{rulText}",
                Priority = CasePolicy.PriorityText(workOrder.Priority),
                LatestFinish = workOrder.LatestFinish ?? now,
                EstHours = mode.EstimatedHours,
                DowntimeRequired = mode.DowntimeRequired,
            },
            PredictionCount = @case.PredictionCount,
            IssuedAt = now,
        };
    }
}
