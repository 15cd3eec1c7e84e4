using System.Globalization;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>From FailurePredicted on RabbitMQ to a record in the Maximo stub, field by field; and many predictions, one record.</summary>
[Collection(MaintenanceSuite.Name)]
public sealed class MaximoIntegrationTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task A_prediction_on_RabbitMQ_becomes_a_Maximo_work_order_with_every_canonical_field_mapped()
    {
        var prediction = MaintenanceFixture.Prediction("mx-wo", confidence: 0.85, rulHours: 310, health: HealthState.Alert);
        await fixture.Publish(prediction);
        var @case = await fixture.DeliveredCase("mx-wo");
        var workOrder = await fixture.WorkOrder(@case.WorkOrder!.Id);

        var record = Assert.Single(fixture.Stubs.Maximo.Tenant("mx-wo").Records.Values, r => r.ObjectStructure == MaximoStub.WorkOrderStructure);
        Assert.Equal("BEDFORD", record.Field("siteid"));
        Assert.Equal("11430", record.Field("assetnum"));
        Assert.Equal("BPM3100", record.Field("location"));
        Assert.Equal("CM", record.Field("worktype"));
        Assert.Equal("2", record.Field("wopriority"));
        Assert.Equal("PUMPS", record.Field("failurecode"));
        Assert.Equal("VIB", record.Field("problemcode"));
        Assert.Equal("WAPPR", record.Field("status"));
        Assert.Equal("PDM", record.Field("reportedby"));
        Assert.Equal(workOrder.Cmms!.Reference, record.Field("externalrefid"));
        Assert.Equal(0, fixture.Stubs.Maximo.Tenant("mx-wo").Rejected);

        var description = record.Field("description")!;
        Assert.InRange(description.Length, 1, 100);
        Assert.StartsWith("PdM: VIB Bearing DE, RUL ~310 h", description, StringComparison.Ordinal);

        var longText = record.Field("description_longdescription")!;
        Assert.Contains("DE velocity RMS 7.1 mm/s (limit 4.5) over 2026-11-20 00:00:00Z..2026-11-23 00:00:00Z from spBv1.0/PlantA/DDATA/edge-3/pump101", longText, StringComparison.Ordinal);
        Assert.Contains("mechanism 2.4", longText, StringComparison.Ordinal);
        Assert.Contains("severity incipient, detected by continuous condition monitoring", longText, StringComparison.Ordinal);
        Assert.Contains("RUL (hours): P10 124, P50 310, P90 620", longText, StringComparison.Ordinal);
        Assert.Contains("decided by model brg-rul 3.1.0", longText, StringComparison.Ordinal);
        Assert.Contains("Replace: Replace DE bearing; check alignment", longText, StringComparison.Ordinal);

        // targcompdate is the recommendation's latest finish: 80 % of the pessimistic RUL (P10 = 124 h) from receipt.
        var target = DateTimeOffset.Parse(record.Field("targcompdate")!, CultureInfo.InvariantCulture);
        Assert.Equal(workOrder.LatestFinish!.Value.ToUnixTimeSeconds(), target.ToUnixTimeSeconds());
        Assert.InRange(target - workOrder.CreatedAt, TimeSpan.FromHours(99), TimeSpan.FromHours(99.3));

        // The API shows the decision provenance and where the record lives.
        Assert.Equal("workOrder", workOrder.Kind);
        Assert.Equal(WorkOrderPriority.High, workOrder.Priority);
        Assert.Equal("maximo", workOrder.Cmms!.System);
        Assert.Equal(record.Id, workOrder.Cmms.RecordId);
        Assert.EndsWith("/t/mx-wo/maximo/" + record.Path, workOrder.Cmms.Url, StringComparison.Ordinal);
        Assert.Equal("WAPPR", workOrder.Cmms.Status);
        Assert.Equal(DecisionPath.Model, workOrder.Provenance!.Path);
        Assert.Equal("brg-rul", workOrder.Provenance.ModelName);
        Assert.Equal(7.1, Assert.Single(workOrder.Evidence!).Value);

        var raised = await Eventually.Until(() => Task.FromResult(fixture.Events.Of<WorkOrderRaised>().FirstOrDefault(e => e.WorkOrderId == workOrder.Id)), e => e is not null, "WorkOrderRaised");
        Assert.Equal(@case.Id, raised!.CaseId);
        Assert.Equal("maximo", raised.CmmsSystem);
        Assert.Equal(prediction.PredictionId, raised.SourcePredictionId);
    }

    [Fact]
    public async Task A_thousand_predictions_for_one_failing_asset_make_one_case_one_record_and_escalations_as_updates()
    {
        const int count = 1000;

        // The first prediction opens the case (Medium: health Watch, RUL 400 h); the rest arrive all at once, in any order.
        await fixture.Publish(MaintenanceFixture.Prediction("mx-bulk", rulHours: 400, health: HealthState.Watch));
        var opened = await fixture.DeliveredCase("mx-bulk");
        Assert.Equal(WorkOrderPriority.Medium, opened.Priority);
        Assert.Equal("3", Assert.Single(fixture.Stubs.Maximo.Tenant("mx-bulk").Records.Values).Field("wopriority"));

        var tasks = new List<Task>(count);
        for (var i = 1; i < count; i++)
        {
            // RUL shrinks from 400 h to 10 h: Medium (health Watch) → High (≤ 72 h) → Urgent (≤ 24 h).
            var rul = 400 - (390.0 * i / (count - 1));
            tasks.Add(fixture.Publish(MaintenanceFixture.Prediction("mx-bulk", rulHours: rul, health: HealthState.Watch)));
        }

        await Task.WhenAll(tasks);
        var @case = await Eventually.Until(async () => (await fixture.Cases("mx-bulk")).SingleOrDefault(),
            c => c is { PredictionCount: count, Priority: WorkOrderPriority.Urgent } && c.WorkOrder!.Cmms!.Delivery == "Delivered",
            "all predictions folded in and the escalation delivered", seconds: 90);

        Assert.Single(await fixture.Cases("mx-bulk"));
        var record = Assert.Single(fixture.Stubs.Maximo.Tenant("mx-bulk").Records.Values);
        Assert.Equal("1", record.Field("wopriority"));
        Assert.InRange(@case!.EscalationCount, 1, 2);
        Assert.InRange(record.UpdateCount, 1, 2);
        Assert.Equal(count, @case.WorkOrder!.PredictionCount);
        Assert.Equal(PdM.Maintenance.Persistence.MaintenanceCase.MaxSourcePredictionIds, @case.SourcePredictionIds.Count);
        Assert.Single(fixture.Events.Of<WorkOrderRaised>(), e => e.SiteId == "mx-bulk");
        await Eventually.Until(() => Task.FromResult(fixture.Events.Of<MaintenanceCaseEscalated>().Count(e => e.SiteId == "mx-bulk")), n => n == @case.EscalationCount, "the escalation events");
    }
}
