using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;

namespace PdM.Rules.Tests;

public sealed class RulesServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(string directory)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Rules:Directory"] = directory, ["Rules:WatchForChanges"] = "false" })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddEdgeRules();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void The_registered_evaluator_answers_from_the_configured_folder()
    {
        using var provider = Build(Shipped.Directory);
        provider.GetRequiredService<IStartupValidator>().Validate();

        var decision = provider.GetRequiredService<IRulesEvaluator>().Evaluate(new RulesInput
        {
            AssetId = "fan-3",
            AssetClass = "rotating-g1-flexible",
            Facts = new Dictionary<string, double> { ["vibration_rms_mm_s"] = 11.0, ["bearing_temperature_c"] = 40 },
        });

        Assert.Equal((HealthState.Danger, "vibration-zone-d"), (decision.HealthState, decision.RuleName));
    }

    [Fact]
    public void A_missing_rulesets_folder_fails_start()
    {
        using var provider = Build(Path.Combine(Path.GetTempPath(), "pdm-rules-missing-" + Guid.NewGuid().ToString("N")));

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejected_ruleset_is_counted_once_per_distinct_problem()
    {
        using var folder = new TempRulesetFolder();
        folder.WriteThreshold("kiln", "kiln", "1.0.0", 80, expression: "humidity_pct > 90");
        using var meters = new ScopedMeterFactory();
        using var telemetry = new RulesTelemetry(meters);
        long rejected = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Other tests create meters with the same name; count only this test's.
            if (ReferenceEquals(instrument.Meter.Scope, meters) && instrument.Name == "pdm.rules.rulesets.rejected")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref rejected, value));
        listener.Start();

        using var store = RulesetStore.Open(folder.Root, telemetry: telemetry);
        store.Reload();

        Assert.Equal(1, Interlocked.Read(ref rejected));
    }

    private sealed class ScopedMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
