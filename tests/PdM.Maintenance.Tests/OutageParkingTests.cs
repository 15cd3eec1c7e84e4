using System.Net;
using System.Net.Http.Json;
using PdM.Maintenance.Api;
using PdM.Maintenance.Outbox;
using PdM.Security;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>
/// A Maximo outage that outlasts <c>Maintenance:Delivery:MaxAttempts</c> (docs/operations.md, PdmCmmsBreakerOpen and
/// PdmWorkOrderParked): the breaker's trials count as delivery attempts, so the work order waiting behind it is parked
/// once it has had them all, stays parked while nobody acts, and is sent once when a planner retries it.
/// </summary>
[Collection(MaintenanceSuite.Name)]
public sealed class OutageParkingTests(MaintenanceFixture fixture)
{
    private const string Site = MaintenanceFixture.OutageParkSite;
    private const string Endpoint = "maximo@" + Site;

    [Fact]
    public async Task A_work_order_whose_every_trial_meets_a_Maximo_outage_is_parked_after_MaxAttempts_left_alone_and_reaches_Maximo_once_when_a_planner_retries_it()
    {
        using var metrics = new MetricRecorder(MaintenanceTelemetry.MeterName);
        await fixture.Outage.StopAsync();
        try
        {
            await OutlastMaxAttemptsAsync(metrics);
        }
        finally
        {
            // The stub is shared with CmmsBreakerTests: leave it running whatever happened here.
            await fixture.Outage.StartAsync();
        }
    }

    private async Task OutlastMaxAttemptsAsync(MetricRecorder metrics)
    {
        // Connections are refused from the first attempt on: three open the breaker, and each trial after its
        // one-second cool-down is refused too, until the work order has had MaxAttempts. Generous bound, not a timing claim.
        await fixture.Publish(MaintenanceFixture.Prediction(Site));
        var parked = (await fixture.DeliveredCase(Site, delivery: "Failed", seconds: 60)).WorkOrder!;

        // What the planner sees on the work order: parked for a reason that says the CMMS was not reachable.
        Assert.Equal("retries_exhausted", parked.Cmms!.ParkedReason);
        Assert.StartsWith($"Gave up after {MaintenanceFixture.MaxAttempts} attempts: ", parked.Cmms.DeliveryError, StringComparison.Ordinal);
        Assert.Contains("did not answer", parked.Cmms.DeliveryError, StringComparison.Ordinal);
        Assert.Contains("Connection refused", parked.Cmms.DeliveryError, StringComparison.Ordinal);
        Assert.Null(parked.Cmms.RecordId);
        var reference = parked.Cmms.Reference;
        Assert.False(string.IsNullOrEmpty(reference));

        // Listed, counted by reason, and on the metric the PdmWorkOrderParked alert reads.
        var listed = await fixture.Api.GetFromJsonAsync<List<WorkOrderResponse>>("/api/work-orders?state=parked&limit=500", MaintenanceFixture.Json);
        Assert.Contains(listed!, w => w.Id == parked.Id);
        var reasons = await fixture.Api.GetFromJsonAsync<List<ParkedReasonCount>>("/api/work-orders/parked/reasons", MaintenanceFixture.Json);
        Assert.Contains(reasons!, r => r is { System: "maximo", Reason: "retries_exhausted", Count: >= 1 });
        Assert.Equal(1, metrics.Total("pdm.maintenance.work_orders_parked", "reason", "retries_exhausted"));

        // Every failure the endpoint's breaker saw was one of this work order's attempts: none went unseen, none extra.
        var atPark = await Breaker();
        Assert.NotEqual(BreakerState.Closed, atPark!.State);
        Assert.Equal(MaintenanceFixture.MaxAttempts, atPark.ConsecutiveFailures);

        // Parked means parked: over several cool-downs no further trial goes out while Maximo is down…
        await Task.Delay(TimeSpan.FromSeconds(3));
        var trialsWhileParked = (await Breaker())!.ConsecutiveFailures - MaintenanceFixture.MaxAttempts;
        Assert.True(trialsWhileParked == 0, $"{trialsWhileParked} more trial(s) went out for a work order parked while Maximo was down");
        var stillParked = await fixture.WorkOrder(parked.Id);
        Assert.Equal("Failed", stillParked.Cmms!.Delivery);
        Assert.Equal(parked.Cmms.DeliveryError, stillParked.Cmms.DeliveryError);

        // …nor once it is back: Maximo gets no request until a planner asks for one.
        await fixture.Outage.StartAsync();
        var tenant = fixture.Outage.Running.Maximo.Tenant(Site);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(tenant.Requests == 0, $"Maximo got {tenant.Requests} request(s) for a parked work order before any planner retried it");
        Assert.Equal("Failed", (await fixture.WorkOrder(parked.Id)).Cmms!.Delivery);

        using var planner = fixture.Client("pat", PdMRoles.Planner);
        Assert.Equal(HttpStatusCode.OK, (await planner.PostAsync($"/api/work-orders/{parked.Id}/retry", null)).StatusCode);

        var delivered = (await fixture.DeliveredCase(Site)).WorkOrder!;
        Assert.Equal(reference, delivered.Cmms!.Reference);
        Assert.Null(delivered.Cmms.ParkedReason);
        Assert.Null(delivered.Cmms.DeliveryError);
        Assert.Equal(BreakerState.Closed, (await Breaker())!.State);

        // Once: one Maximo work order under the unchanged reference, and nothing sent after it (a second delivery would
        // find it by reference and update it). A second retry has nothing parked to send.
        Assert.Equal(HttpStatusCode.Conflict, (await planner.PostAsync($"/api/work-orders/{parked.Id}/retry", null)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var record = Assert.Single(tenant.Records.Values);
        Assert.Equal(record.Id, Assert.Single(tenant.Find("externalrefid", reference!)).Id);
        Assert.Equal(record.Id, delivered.Cmms.RecordId);
        Assert.True(record.UpdateCount == 0, $"the work order was sent {record.UpdateCount} more time(s) after it reached Maximo");
    }

    private Task<BreakerSnapshot?> Breaker() => fixture.Breaker(Endpoint);
}
