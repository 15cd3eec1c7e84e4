using System.Diagnostics.Metrics;

namespace PdM.Maintenance;

/// <summary>The Maintenance module's meter: what a planner's dashboard shows about cases, work orders and CMMS delivery.</summary>
public sealed class MaintenanceTelemetry : IDisposable
{
    public const string MeterName = "PdM.Maintenance";

    /// <summary>Spans of case handling (the outbox's delivery and the CMMS call are spans of <c>PdM.Persistence.Outbox</c> and HttpClient).</summary>
    public static System.Diagnostics.ActivitySource ActivitySource { get; } = new(MeterName);

    private readonly Meter _meter;

    public MaintenanceTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        WorkOrdersRaised = _meter.CreateCounter<long>("pdm.maintenance.work_orders_raised", description: "Work orders opened.");
        WorkOrdersUpdated = _meter.CreateCounter<long>("pdm.maintenance.work_orders_updated", description: "Predictions folded into an already open work order.");
        DuplicatesIgnored = _meter.CreateCounter<long>("pdm.maintenance.duplicates_ignored", description: "Redelivered messages that had already taken effect.");
        PredictionsRejected = _meter.CreateCounter<long>("pdm.maintenance.predictions_rejected", description: "Predictions that could not be mapped, by reason.");
        PredictionsSuppressed = _meter.CreateCounter<long>("pdm.maintenance.predictions_suppressed", description: "Predictions folded into a closed case during its cooldown.");
        CasesEscalated = _meter.CreateCounter<long>("pdm.maintenance.cases_escalated", description: "Open cases whose priority rose.");
        CmmsDeliveries = _meter.CreateCounter<long>("pdm.maintenance.cmms_deliveries", description: "CMMS calls by system and result.");
        BreakerTransitions = _meter.CreateCounter<long>("pdm.maintenance.breaker_transitions", description: "CMMS circuit-breaker state changes.");
        OutcomesRecorded = _meter.CreateCounter<long>("pdm.maintenance.outcomes_recorded", description: "Cases closed with an outcome (training labels).");
        CmmsFieldsFitted = _meter.CreateCounter<long>("pdm.maintenance.cmms_fields_fitted",
            description: "Texts shortened to the length the CMMS publishes for the field, by system and field (the full text is kept in the long text).");
        WorkOrdersParked = _meter.CreateCounter<long>("pdm.maintenance.work_orders_parked",
            description: "Work orders whose delivery was parked for an operator, by system and reason (the CMMS's own code, auth_failed, retries_exhausted).");
        StatusSyncFailures = _meter.CreateCounter<long>("pdm.maintenance.status_sync_failures",
            description: "CMMS records whose status could not be read in a sync round, by system and reason; retried with backoff.");

        // The rare events at 0 from the start: dashboards and the alerts on them see "none yet", not "no such metric".
        WorkOrdersParked.Add(0);
        BreakerTransitions.Add(0);
        StatusSyncFailures.Add(0);
    }

    public Counter<long> WorkOrdersRaised { get; }

    public Counter<long> WorkOrdersUpdated { get; }

    public Counter<long> DuplicatesIgnored { get; }

    public Counter<long> PredictionsRejected { get; }

    public Counter<long> PredictionsSuppressed { get; }

    public Counter<long> CasesEscalated { get; }

    public Counter<long> CmmsDeliveries { get; }

    public Counter<long> BreakerTransitions { get; }

    public Counter<long> OutcomesRecorded { get; }

    public Counter<long> CmmsFieldsFitted { get; }

    public Counter<long> StatusSyncFailures { get; }

    public Counter<long> WorkOrdersParked { get; }

    /// <summary>
    /// The breaker-state gauge (<c>pdm.maintenance.breaker_state</c>, per endpoint: 0 closed, 1 open, 2 half-open), read
    /// from <paramref name="snapshot"/> at each scrape; the PdmCmmsBreakerOpen alert watches it.
    /// </summary>
    public void ObserveBreakers(Func<IReadOnlyList<Outbox.BreakerSnapshot>> snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _meter.CreateObservableGauge("pdm.maintenance.breaker_state", () => Observe(snapshot()), "{state}",
            "CMMS circuit-breaker state per endpoint: 0 closed, 1 open, 2 half-open.");

        static IEnumerable<Measurement<int>> Observe(IReadOnlyList<Outbox.BreakerSnapshot> breakers)
        {
            foreach (var breaker in breakers)
            {
                yield return new Measurement<int>((int)breaker.State, new KeyValuePair<string, object?>("endpoint", breaker.Endpoint));
            }
        }
    }

    public void Dispose() => _meter.Dispose();
}
