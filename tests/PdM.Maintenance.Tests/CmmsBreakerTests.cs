using System.Net.Http.Json;
using Npgsql;
using PdM.Contracts.Decisions;
using PdM.Maintenance.Api;
using PdM.Maintenance.Outbox;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

/// <summary>
/// The CMMS circuit breaker across a real outage (docs/operations.md, PdmCmmsBreakerOpen): Maximo's server is stopped, so
/// every connection is refused, while predictions keep arriving; then it is started again.
/// </summary>
[Collection(MaintenanceSuite.Name)]
public sealed class CmmsBreakerTests(MaintenanceFixture fixture)
{
    private const string Site = MaintenanceFixture.OutageSite;
    private const string Endpoint = "maximo@" + Site;

    [Fact]
    public async Task Work_orders_raised_while_Maximo_is_down_wait_behind_the_open_breaker_and_reach_Maximo_once_each_with_its_newest_state_when_it_is_back()
    {
        await fixture.Outage.StopAsync();

        // The first work order meets the outage: three refused connections in a row open the breaker.
        var raised = new List<CaseResponse> { await Raise("PUMP-101", "VIB") };
        var opened = await Eventually.Until(Breaker, b => b is { State: not BreakerState.Closed }, "the breaker to open");
        Assert.Contains("did not answer", opened!.LastError, StringComparison.Ordinal);
        Assert.Contains("Connection refused", opened.LastError, StringComparison.Ordinal);

        // While it is open, more conditions each get a work order of their own (another asset or failure mode).
        foreach (var (asset, mode) in new[] { ("PUMP-102", "VIB"), ("PUMP-103", "VIB"), ("PUMP-101", "BRD"), ("PUMP-102", "BRD") })
        {
            raised.Add(await Raise(asset, mode));
        }

        // One of them escalates while it waits: its work order now has two snapshots, and only the newer may reach Maximo.
        await fixture.Publish(MaintenanceFixture.Prediction(Site, asset: "PUMP-103", health: HealthState.Danger));
        await Eventually.Until(() => fixture.Case(raised[2].Id), c => c.EscalationCount == 1, "PUMP-103's case to escalate");

        // Let the breaker's trials meet the outage too (cool-down 1 s), then look at what waits.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var down = await Breaker();
        Assert.NotEqual(BreakerState.Closed, down!.State);
        Assert.Contains("Connection refused", down.LastError, StringComparison.Ordinal);
        Assert.True(fixture.Logs.Contains($"CMMS breaker for {Endpoint} half-open"), "a trial went out during the outage");
        var waiting = await fixture.Api.GetFromJsonAsync<List<CaseResponse>>($"/api/cases?siteId={Site}", MaintenanceFixture.Json);
        Assert.Equal(raised.Count, waiting!.Count);
        Assert.All(waiting, c =>
        {
            Assert.Equal("Pending", c.WorkOrder!.Cmms!.Delivery);
            Assert.Null(c.WorkOrder.Cmms.RecordId);
            Assert.Null(c.WorkOrder.Cmms.ParkedReason);
            Assert.Matches("circuit breaker is open|did not answer", c.WorkOrder.Cmms.DeliveryError!);
        });
        var rows = await CmmsRows();
        Assert.All(raised, c => Assert.Contains(rows, r => r.WorkOrderId == c.WorkOrder!.Id && r.Status == "Pending"));
        Assert.DoesNotContain(rows, r => r.Status != "Pending");

        await fixture.Outage.StartAsync();

        var delivered = await Eventually.Until(
            async () => (await fixture.Api.GetFromJsonAsync<List<CaseResponse>>($"/api/cases?siteId={Site}", MaintenanceFixture.Json))!,
            list => list.Count == raised.Count && list.All(c => c.WorkOrder!.Cmms!.Delivery == "Delivered"), "every waiting work order to be delivered");
        var closed = await Breaker();
        Assert.Equal(BreakerState.Closed, closed!.State);
        Assert.Null(closed.LastError);
        Assert.True(fixture.Logs.Contains($"CMMS breaker for {Endpoint} closed"));

        // Once each: one Maximo work order per case, found by the reference the case keeps.
        var tenant = fixture.Outage.Running.Maximo.Tenant(Site);
        Assert.Equal(raised.Count, tenant.Records.Count);
        foreach (var @case in delivered)
        {
            var record = Assert.Single(tenant.Find("externalrefid", @case.WorkOrder!.Cmms!.Reference!));
            Assert.Equal(record.Id, @case.WorkOrder.Cmms.RecordId);
        }

        // In order within a work order (the outbox's promise is per stream, and a work order's CMMS snapshots are one
        // stream): the escalated one was created once with its newer priority (1, urgent), its older snapshot superseded
        // rather than sent, and never sent after the newer one.
        var escalated = delivered.Single(c => c.Id == raised[2].Id).WorkOrder!;
        var escalatedRecord = tenant.Find("externalrefid", escalated.Cmms!.Reference!).Single();
        Assert.Equal("1", escalatedRecord.Field("wopriority"));
        Assert.Equal(0, escalatedRecord.UpdateCount);
        var after = await CmmsRows();
        Assert.Equal(["Superseded", "Delivered"], after.Where(r => r.WorkOrderId == escalated.Id).Select(r => r.Status));
        Assert.All(after.Where(r => r.WorkOrderId != escalated.Id), r => Assert.Equal("Delivered", r.Status));

        // Not asserted: the order across work orders. The dispatcher takes due rows oldest first, but a work order's
        // own retry backoff can outlast the cool-down (not with this suite's 1 s BackoffMax), and then a younger one
        // takes the trial and goes first.
    }

    [Fact]
    public async Task A_delivery_that_throws_during_the_breakers_trial_does_not_hold_the_endpoint_once_Maximo_is_back()
    {
        const string site = MaintenanceFixture.OutageTrialSite;
        await fixture.Outage.StartAsync();
        await fixture.Publish(MaintenanceFixture.Prediction(site, "PUMP-101"));
        var broken = await fixture.DeliveredCase(site, "PUMP-101");

        // Its stored link is corrupt (not http): sending its next snapshot throws in the HTTP client, before any request.
        await using (var connection = new NpgsqlConnection(fixture.ConnectionString))
        {
            await connection.OpenAsync();
            await using var update = new NpgsqlCommand("UPDATE maintenance.work_orders SET cmms_url = 'mailto:planner@example.com' WHERE id = @id", connection);
            update.Parameters.AddWithValue("id", broken.WorkOrder!.Id);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        // Maximo goes down; the broken work order escalates, a healthy one is raised and opens the breaker. Being the
        // older row, the broken one's snapshot is what the breaker's trials pick.
        await fixture.Outage.StopAsync();
        await fixture.Publish(MaintenanceFixture.Prediction(site, "PUMP-101", health: HealthState.Danger));
        await Eventually.Until(() => fixture.Case(broken.Id), c => c.EscalationCount == 1, "the broken work order to escalate");
        await fixture.Publish(MaintenanceFixture.Prediction(site, "PUMP-102"));
        await Eventually.Until(() => fixture.Breaker("maximo@" + site), (BreakerSnapshot? b) => b is { State: not BreakerState.Closed }, "the breaker to open");
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        // Back: the healthy work order reaches Maximo and the breaker closes, whatever the broken one does.
        await fixture.Outage.StartAsync();
        var healthy = await fixture.DeliveredCase(site, "PUMP-102");
        Assert.Equal("Pending", (await fixture.Case(broken.Id)).WorkOrder!.Cmms!.Delivery);
        Assert.Single(fixture.Outage.Running.Maximo.Tenant(site).Find("externalrefid", healthy.WorkOrder!.Cmms!.Reference!));
        Assert.Equal(BreakerState.Closed, (await fixture.Breaker("maximo@" + site))!.State);
    }

    /// <summary>Publishes a prediction for a new condition and waits for its case and work order.</summary>
    private async Task<CaseResponse> Raise(string asset, string mode)
    {
        await fixture.Publish(MaintenanceFixture.Prediction(Site, asset, mode: mode));
        return await Eventually.Until(async () => (await fixture.Cases(Site, asset)).SingleOrDefault(c => c.FailureMode == mode),
            c => c?.WorkOrder is not null, $"a work order for {asset}/{mode}") ?? throw new InvalidOperationException();
    }

    private Task<BreakerSnapshot?> Breaker() => fixture.Breaker(Endpoint);

    /// <summary>The site's outbox rows bound for the CMMS, as the dispatcher sees them.</summary>
    private async Task<List<(Guid WorkOrderId, string Status)>> CmmsRows()
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(
            "SELECT w.id, o.status FROM maintenance.outbox o JOIN maintenance.work_orders w ON o.stream = 'cmms:' || replace(w.id::text, '-', '') " +
            "WHERE o.message_type = @type AND w.site_id = @site ORDER BY o.id", connection);
        query.Parameters.AddWithValue("type", CmmsDelivery.Type);
        query.Parameters.AddWithValue("site", Site);
        var rows = new List<(Guid, string)>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetGuid(0), reader.GetString(1)));
        }

        return rows;
    }
}
