using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Hosting;
using PdM.Maintenance.Policy;

namespace PdM.Maintenance.Tests;

/// <summary>The site policy a planner configures: priority from health, RUL and criticality; request or work order; validation at start.</summary>
public sealed class CasePolicyTests
{
    private static readonly SiteOptions Site = new()
    {
        Cmms = new CmmsOptions { Adapter = CmmsAdapterKind.Maximo, Maximo = new MaximoOptions { CreateWorkOrders = true } },
    };

    [Theory]
    [InlineData(HealthState.Watch, 400.0, AssetCriticality.B, WorkOrderPriority.Medium)]
    [InlineData(HealthState.Watch, 100.0, AssetCriticality.B, WorkOrderPriority.Medium)]
    [InlineData(HealthState.Watch, 60.0, AssetCriticality.B, WorkOrderPriority.High)]
    [InlineData(HealthState.Watch, 20.0, AssetCriticality.B, WorkOrderPriority.Urgent)]
    [InlineData(HealthState.Danger, 400.0, AssetCriticality.B, WorkOrderPriority.Urgent)]
    [InlineData(HealthState.Watch, 400.0, AssetCriticality.A, WorkOrderPriority.High)]
    [InlineData(HealthState.Alert, 400.0, AssetCriticality.C, WorkOrderPriority.Medium)]
    [InlineData(HealthState.Healthy, 1000.0, AssetCriticality.C, WorkOrderPriority.Low)]
    public void Priority_is_the_more_urgent_of_health_and_remaining_life_moved_by_criticality(
        HealthState health, double rulHours, AssetCriticality criticality, WorkOrderPriority expected)
    {
        var prediction = MaintenanceFixture.Prediction("site", rulHours: rulHours, health: health);
        Assert.Equal(expected, CasePolicy.Priority(prediction, Site, criticality));
    }

    [Fact]
    public void Confidence_below_the_gate_and_criticality_C_assets_get_requests_not_work_orders()
    {
        Assert.Equal(CasePolicy.WorkOrderKind, CasePolicy.Kind(MaintenanceFixture.Prediction("s", confidence: 0.7), Site, AssetCriticality.B));
        Assert.Equal(CasePolicy.RequestKind, CasePolicy.Kind(MaintenanceFixture.Prediction("s", confidence: 0.69), Site, AssetCriticality.B));
        Assert.Equal(CasePolicy.RequestKind, CasePolicy.Kind(MaintenanceFixture.Prediction("s", confidence: 0.99), Site, AssetCriticality.C));
    }

    [Fact]
    public void The_latest_finish_is_a_fraction_of_the_pessimistic_remaining_life()
    {
        var now = DateTimeOffset.Parse("2026-11-25T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var prediction = MaintenanceFixture.Prediction("s", rulHours: 100); // P10 = 40 h
        Assert.Equal(now.AddHours(32), CasePolicy.LatestFinish(prediction, Site, WorkOrderPriority.High, now));
        Assert.Equal(now.AddDays(3), CasePolicy.LatestFinish(MaintenanceFixture.Prediction("s", rulHours: null), Site, WorkOrderPriority.High, now));
    }

    [Fact]
    public void A_site_whose_adapter_lacks_its_settings_fails_at_start_naming_the_key()
    {
        var failures = StartFailures(new Dictionary<string, string?>
        {
            ["Maintenance:Sites:plant-a:Cmms:Adapter"] = "Maximo",
            ["Maintenance:Sites:plant-a:WorkOrderConfidence"] = "1.5",
            ["Maintenance:Sites:plant-a:UrgentRulHours"] = "500",
        });
        Assert.Contains(failures, f => f.Contains("Maintenance:Sites:plant-a:Cmms:Maximo:BaseUrl and Maximo:ApiKey are required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("plant-a", StringComparison.Ordinal) && f.Contains("WorkOrderConfidence", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("UrgentRulHours <= HighRulHours <= MediumRulHours", StringComparison.Ordinal));
    }

    [Fact]
    public void A_lease_shorter_than_two_delivery_attempts_fails_at_start()
    {
        // Renewed only between deliveries: a lease under two attempts could run out while a slow CMMS answers, and a
        // second replica would send the same work order beside the first.
        var failures = StartFailures(new Dictionary<string, string?>
        {
            ["Maintenance:Delivery:RequestTimeout"] = "00:00:30",
            ["Maintenance:Delivery:AttemptTimeout"] = "00:00:20",
            ["Maintenance:Delivery:LeaseDuration"] = "00:00:30",
        });
        Assert.Contains(failures, f => f.Contains("Maintenance:Delivery:LeaseDuration", StringComparison.Ordinal)
            && f.Contains("at least twice AttemptTimeout", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("Maintenance:Delivery:AttemptTimeout", StringComparison.Ordinal)
            && f.Contains("below RequestTimeout", StringComparison.Ordinal));
        Assert.True(new DeliveryOptions().LeaseDuration >= 2 * new DeliveryOptions().AttemptTimeout, "the defaults hold the rule");
    }

    /// <summary>What a host started with <paramref name="settings"/> refuses to start over (Maintenance's section).</summary>
    private static IReadOnlyList<string> StartFailures(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddValidatedOptions<MaintenanceOptions>(MaintenanceOptions.Section);
        using var provider = services.BuildServiceProvider();
        return [.. Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<MaintenanceOptions>>().Value).Failures];
    }
}
