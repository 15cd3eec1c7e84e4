using System.Net;
using System.Net.Http.Json;
using PdM.Maintenance.Api;
using PdM.Security;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>
/// A record the CMMS refuses is parked with the vendor's own message, listed and counted by reason, and sent again after
/// a fix by a planner (or admin), under the same reference: one record in the CMMS, never two.
/// </summary>
[Collection(MaintenanceSuite.Name)]
public sealed class ParkingTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task A_refused_notification_is_parked_with_SAPs_message_listed_counted_and_retried_after_a_customizing_fix_without_a_duplicate()
    {
        // The site asks for notification type Z2, which this SAP system's customizing does not define (yet).
        const string site = "sap-park";
        var tenant = fixture.Stubs.Sap.Tenant(site);
        using var metrics = new MetricRecorder(MaintenanceTelemetry.MeterName);
        await fixture.Publish(MaintenanceFixture.Prediction(site));
        var parked = (await fixture.DeliveredCase(site, delivery: "Failed")).WorkOrder!;

        Assert.Contains("SAP rejected the record (HTTP 400: IW/051 Notification type \"Z2\" is not defined.)", parked.Cmms!.DeliveryError, StringComparison.Ordinal);
        Assert.Equal("IW/051", parked.Cmms.ParkedReason);
        var reference = parked.Cmms.Reference;
        Assert.Matches("^[0-9A-Z]{20}$", reference!);
        Assert.Empty(tenant.Notifications);
        Assert.Equal(1, tenant.Rejected);
        Assert.Equal(1, metrics.Total("pdm.maintenance.work_orders_parked", "reason", "IW/051"));

        var listed = await fixture.Api.GetFromJsonAsync<List<WorkOrderResponse>>("/api/work-orders?state=parked&limit=500", MaintenanceFixture.Json);
        Assert.Contains(listed!, w => w.Id == parked.Id);
        Assert.All(listed!, w => Assert.Equal("Failed", w.Cmms!.Delivery));
        var reasons = await fixture.Api.GetFromJsonAsync<List<ParkedReasonCount>>("/api/work-orders/parked/reasons", MaintenanceFixture.Json);
        Assert.Contains(reasons!, r => r is { System: "sap", Reason: "IW/051", Count: >= 1 });

        // Parked means parked: no retry storm while nobody has fixed anything.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(1, tenant.Rejected);

        // An approver may read but not retry; a planner may.
        using var approver = fixture.Client("ada", PdMRoles.Approver);
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.PostAsync($"/api/work-orders/{parked.Id}/retry", null)).StatusCode);

        tenant.NotificationTypes["Z2"] = true;
        using var planner = fixture.Client("pat", PdMRoles.Planner);
        var retried = await planner.PostAsync($"/api/work-orders/{parked.Id}/retry", null);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);

        var delivered = (await fixture.DeliveredCase(site)).WorkOrder!;
        var notification = Assert.Single(tenant.Notifications.Values);
        Assert.Equal("Z2", notification.Field("NotificationType"));
        Assert.Equal(reference, delivered.Cmms!.Reference);
        Assert.Equal(reference, notification.Field("MaintNotifExtReferenceNumber"));
        Assert.Null(delivered.Cmms.ParkedReason);
        Assert.True(fixture.Logs.Contains(parked.ExternalKey, "retry requested by pat"));

        // A second retry has nothing parked to send.
        Assert.Equal(HttpStatusCode.Conflict, (await planner.PostAsync($"/api/work-orders/{parked.Id}/retry", null)).StatusCode);
        Assert.Single(tenant.Notifications.Values);
    }

    [Fact]
    public async Task Work_orders_parked_for_one_reason_at_a_site_are_all_sent_again_by_one_planner_call_after_the_fix_each_once()
    {
        const string site = "sap-park-bulk";
        var tenant = fixture.Stubs.Sap.Tenant(site);
        string[] assets = [MaintenanceFixture.GoodAsset, "PUMP-102", "PUMP-103"];
        foreach (var asset in assets)
        {
            await fixture.Publish(MaintenanceFixture.Prediction(site, asset));
        }

        var parked = new List<WorkOrderResponse>();
        foreach (var asset in assets)
        {
            parked.Add((await fixture.DeliveredCase(site, asset, delivery: "Failed")).WorkOrder!);
        }

        Assert.All(parked, w => Assert.Equal("IW/051", w.Cmms!.ParkedReason));
        Assert.Equal(assets.Length, tenant.Rejected);
        var filter = new ParkedRetryRequest(SiteId: site, Reason: "IW/051");

        // An approver may not; a planner must say which (a fix seldom covers everything parked).
        using var approver = fixture.Client("ada", PdMRoles.Approver);
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.PostAsJsonAsync("/api/work-orders/parked/retry", filter, MaintenanceFixture.Json)).StatusCode);
        using var planner = fixture.Client("pat", PdMRoles.Planner);
        Assert.Equal(HttpStatusCode.BadRequest, (await planner.PostAsJsonAsync("/api/work-orders/parked/retry", new ParkedRetryRequest(), MaintenanceFixture.Json)).StatusCode);
        var stillParked = await fixture.Api.GetFromJsonAsync<List<WorkOrderResponse>>("/api/work-orders?state=parked&limit=500", MaintenanceFixture.Json);
        Assert.All(parked, w => Assert.Contains(stillParked!, p => p.Id == w.Id));

        // The customizing is fixed once; one call sends every work order parked for it at this site.
        tenant.NotificationTypes["Z2"] = true;
        using var response = await planner.PostAsJsonAsync("/api/work-orders/parked/retry", filter, MaintenanceFixture.Json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var retried = (await response.Content.ReadFromJsonAsync<ParkedRetryResponse>(MaintenanceFixture.Json))!;
        Assert.Equal(assets.Length, retried.Requeued);
        Assert.Equal(parked.Select(w => w.Id).Order(), retried.WorkOrders.Order());
        Assert.False(retried.More);

        // Each reaches SAP once, under the reference it was parked with.
        foreach (var before in parked)
        {
            var delivered = (await fixture.DeliveredCase(site, before.AssetId)).WorkOrder!;
            Assert.Equal(before.Cmms!.Reference, delivered.Cmms!.Reference);
            Assert.Single(tenant.Notifications.Values, n => n.Field("MaintNotifExtReferenceNumber") == before.Cmms.Reference);
        }

        Assert.Equal(assets.Length, tenant.Notifications.Count);
        Assert.True(fixture.Logs.Contains("Parked work orders retried by pat", $"{assets.Length} re-queued", site, "IW/051"));

        // Called again: nothing is parked for it any more.
        using var again = await planner.PostAsJsonAsync("/api/work-orders/parked/retry", filter, MaintenanceFixture.Json);
        Assert.Equal(0, (await again.Content.ReadFromJsonAsync<ParkedRetryResponse>(MaintenanceFixture.Json))!.Requeued);
        Assert.Equal(assets.Length, tenant.Notifications.Count);
    }
}
