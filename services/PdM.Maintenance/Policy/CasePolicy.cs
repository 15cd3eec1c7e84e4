using System.Globalization;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;

namespace PdM.Maintenance.Policy;

/// <summary>The site's rules for one prediction: priority (health, RUL, criticality), record kind and latest finish.</summary>
public static class CasePolicy
{
    public const string RequestKind = "request";
    public const string WorkOrderKind = "workOrder";

    /// <summary>
    /// The more urgent of what the health state and the remaining useful life say, moved one step up for criticality-A
    /// assets and one step down for criticality-C assets.
    /// </summary>
    public static WorkOrderPriority Priority(FailurePredicted prediction, SiteOptions site, AssetCriticality criticality)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(site);
        var byHealth = prediction.HealthState switch
        {
            HealthState.Danger => WorkOrderPriority.Urgent,
            HealthState.Alert => WorkOrderPriority.High,
            HealthState.Watch => WorkOrderPriority.Medium,
            _ => WorkOrderPriority.Low,
        };
        var priority = byHealth;
        if (RulHours(prediction) is { } hours)
        {
            var byRul = hours <= site.UrgentRulHours ? WorkOrderPriority.Urgent
                : hours <= site.HighRulHours ? WorkOrderPriority.High
                : hours <= site.MediumRulHours ? WorkOrderPriority.Medium
                : WorkOrderPriority.Low;
            priority = byRul < priority ? byRul : priority;
        }

        // Lower enum value = more urgent (Maximo/SAP priority 1 is the highest).
        return criticality switch
        {
            AssetCriticality.A when priority > WorkOrderPriority.Urgent => priority - 1,
            AssetCriticality.C when priority < WorkOrderPriority.Low => priority + 1,
            _ => priority,
        };
    }

    public static string Kind(FailurePredicted prediction, SiteOptions site, AssetCriticality criticality)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(site);
        if (criticality == AssetCriticality.C && site.RequestsOnlyForCriticalityC)
        {
            return RequestKind;
        }

        // A Maximo site creates work orders only when it opted in; otherwise every record is a service request.
        if (site.Cmms.Adapter == CmmsAdapterKind.Maximo && site.Cmms.Maximo?.CreateWorkOrders != true)
        {
            return RequestKind;
        }

        return prediction.Confidence >= site.WorkOrderConfidence ? WorkOrderKind : RequestKind;
    }

    public static double? RulHours(FailurePredicted prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        return prediction.RemainingUsefulLife is { Unit: RulUnit.Hours } rul ? rul.P50 : null;
    }

    /// <summary>
    /// Finish before the pessimistic end of life: a fraction of P10 (else P50) from now. Without an RUL, a default window
    /// per priority.
    /// </summary>
    public static DateTimeOffset LatestFinish(FailurePredicted prediction, SiteOptions site, WorkOrderPriority priority, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(site);
        if (prediction.RemainingUsefulLife is { Unit: RulUnit.Hours } rul)
        {
            var pessimistic = rul.P10 ?? rul.P50;
            return now.AddHours(Math.Max(1, pessimistic * site.LatestFinishFraction));
        }

        return now + priority switch
        {
            WorkOrderPriority.Urgent => TimeSpan.FromDays(1),
            WorkOrderPriority.High => TimeSpan.FromDays(3),
            WorkOrderPriority.Medium => TimeSpan.FromDays(7),
            _ => TimeSpan.FromDays(30),
        };
    }

    public static string PriorityText(WorkOrderPriority priority) => priority switch
    {
        WorkOrderPriority.Urgent => "URGENT",
        WorkOrderPriority.High => "HIGH",
        WorkOrderPriority.Medium => "MEDIUM",
        _ => "LOW",
    };

    /// <summary>Maximo <c>wopriority</c> / SAP <c>MaintPriority</c>: 1 very high … 4 low.</summary>
    public static int PriorityNumber(WorkOrderPriority priority) => (int)priority;

    public static string Invariant(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
