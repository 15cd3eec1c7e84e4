using Npgsql;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Api;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>
/// The feedback loop against CMMSs that answer with relative links (RFC 9110 §10.2.2), and with records that cannot be
/// read: one bad record is counted, logged with its reason and backed off, and the others still come back as outcomes.
/// </summary>
[Collection(MaintenanceSuite.Name)]
public sealed class StatusSyncTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task Relative_hrefs_and_Location_are_resolved_so_updates_and_the_status_sync_reach_the_record()
    {
        var maximo = fixture.Stubs.Maximo.Tenant("mx-links");
        var sap = fixture.Stubs.Sap.Tenant("sap-links");
        await fixture.Publish(MaintenanceFixture.Prediction("mx-links", health: HealthState.Watch, rulHours: 400));
        await fixture.Publish(MaintenanceFixture.Prediction("sap-links", health: HealthState.Watch, rulHours: 400));
        var mx = await fixture.DeliveredCase("mx-links");
        var sp = await fixture.DeliveredCase("sap-links");

        var record = Assert.Single(maximo.Records.Values);
        Assert.Equal($"{fixture.Stubs.MaximoUrl("mx-links")}/{record.Path}", mx.WorkOrder!.Cmms!.Url);
        Assert.Equal($"{fixture.Stubs.SapUrl("sap-links")}/MaintenanceNotification('{sp.WorkOrder!.Cmms!.RecordId}')", sp.WorkOrder.Cmms.Url);

        // An escalation is an update through the stored link.
        await fixture.Publish(MaintenanceFixture.Prediction("mx-links", health: HealthState.Danger, rulHours: 10));
        await Eventually.Until(() => Task.FromResult(record.UpdateCount), n => n == 1, "the escalation to reach the Maximo record through its relative href");
        Assert.Equal("1", record.Field("wopriority"));

        // The planners finish both records; the sync follows the links and brings the outcomes back.
        maximo.Close(record.Id, problemCode: "BRG", status: "COMP", failureCode: "PUMPS");
        sap.Complete(sp.WorkOrder.Cmms.RecordId!, damageCode: "VIB");
        var closedMx = await Eventually.Until(() => fixture.Case(mx.Id), c => c.Status == "Closed", "the Maximo case to close");
        var closedSap = await Eventually.Until(() => fixture.Case(sp.Id), c => c.Status == "Closed", "the SAP case to close");
        Assert.Equal(MaintenanceOutcome.FailureConfirmed, closedMx.Outcome);
        Assert.Equal("BRG", closedMx.FailureCode);
        Assert.Equal(MaintenanceOutcome.FailureConfirmed, closedSap.Outcome);
        Assert.Equal("VIB", closedSap.FailureCode);
        Assert.Equal(0, maximo.Rejected + sap.Rejected);
    }

    [Fact]
    public async Task A_record_that_cannot_be_read_is_counted_logged_and_backed_off_while_the_others_still_close()
    {
        const string site = "mx-isolate";
        var tenant = fixture.Stubs.Maximo.Tenant(site);
        using var metrics = new MetricRecorder(MaintenanceTelemetry.MeterName);
        await fixture.Publish(MaintenanceFixture.Prediction(site, asset: "PUMP-101"));
        await fixture.Publish(MaintenanceFixture.Prediction(site, asset: "PUMP-102"));
        await fixture.Publish(MaintenanceFixture.Prediction(site, asset: "PUMP-103"));
        var gone = (await fixture.DeliveredCase(site, "PUMP-101")).WorkOrder!;
        var corrupt = (await fixture.DeliveredCase(site, "PUMP-102")).WorkOrder!;
        var healthy = await fixture.DeliveredCase(site, "PUMP-103");

        // One record was deleted in Maximo (it answers 404 BMXAA8727E); another's stored link is corrupt (not http),
        // which makes the HTTP client throw rather than answer.
        Assert.True(tenant.Records.TryRemove(tenant.Records.Single(r => r.Value.Id == gone.Cmms!.RecordId).Key, out _));
        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var update = new NpgsqlCommand("UPDATE maintenance.work_orders SET cmms_url = 'mailto:planner@example.com' WHERE id = @id", connection);
            update.Parameters.AddWithValue("id", corrupt.Id);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        tenant.Close(healthy.WorkOrder!.Cmms!.RecordId!, problemCode: "BRG", status: "COMP", failureCode: "PUMPS");
        var closed = await Eventually.Until(() => fixture.Case(healthy.Id), c => c.Status == "Closed", "the readable record's case to close");
        Assert.Equal(MaintenanceOutcome.FailureConfirmed, closed.Outcome);

        var failing = await Eventually.Until(async () => new[] { await fixture.WorkOrder(gone.Id), await fixture.WorkOrder(corrupt.Id) },
            pair => pair.All(w => w.Cmms!.SyncFailures >= 2), "both unreadable records to have failed twice");
        Assert.All(failing, w => Assert.Equal("Open", w.Status));
        Assert.All(failing, w => Assert.True(w.Cmms!.NextSyncAt > DateTimeOffset.UtcNow - TimeSpan.FromSeconds(1)));
        Assert.True(fixture.Logs.Contains(gone.ExternalKey, "could not be read", "BMXAA8727E"));
        Assert.True(fixture.Logs.Contains(corrupt.ExternalKey, "could not be read", "mailto"));
        Assert.True(metrics.Total("pdm.maintenance.status_sync_failures", "reason", "refused") >= 2);
        Assert.True(metrics.Total("pdm.maintenance.status_sync_failures", "reason", "error") >= 2);
    }
}
