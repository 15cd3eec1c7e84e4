using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdM.Edge.Journal;

namespace PdM.Edge.Journal.Tests;

public sealed class JournalOptionsTests
{
    [Theory]
    [InlineData("Path", "Journal:Path")]
    [InlineData("QuotaBytes", "Journal:QuotaBytes")]
    [InlineData("ReplayRatePerSecond", "Journal:ReplayRatePerSecond")]
    [InlineData("ReplayBurst", "Journal:ReplayBurst")]
    [InlineData("MaxCommitBatch", "Journal:MaxCommitBatch")]
    [InlineData("MaxLeaseBatch", "Journal:MaxLeaseBatch")]
    [InlineData("LeaseTimeout", "Journal:LeaseTimeout")]
    [InlineData("PurgeInterval", "Journal:PurgeInterval")]
    [InlineData("BusyTimeout", "Journal:BusyTimeout")]
    [InlineData("Ttl", "Journal:Ttl:Heartbeat")]
    public void Each_invalid_setting_is_rejected_by_name(string setting, string expected)
    {
        var options = new JournalOptions();
        switch (setting)
        {
            case "Path": options.Path = " "; break;
            case "QuotaBytes": options.QuotaBytes = 100; break;
            case "ReplayRatePerSecond": options.ReplayRatePerSecond = double.NaN; break;
            case "ReplayBurst": options.ReplayBurst = 0; break;
            case "MaxCommitBatch": options.MaxCommitBatch = 0; break;
            case "MaxLeaseBatch": options.MaxLeaseBatch = -1; break;
            case "LeaseTimeout": options.LeaseTimeout = TimeSpan.Zero; break;
            case "PurgeInterval": options.PurgeInterval = TimeSpan.FromSeconds(-1); break;
            case "BusyTimeout": options.BusyTimeout = TimeSpan.FromMilliseconds(500); break;
            case "Ttl": options.Ttl.Heartbeat = TimeSpan.Zero; break;
        }

        var result = new JournalOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
        var error = Assert.Throws<OptionsValidationException>(() => EdgeJournal.Open(options));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_valid_and_keep_failure_predictions_forever()
    {
        var options = new JournalOptions();
        Assert.True(new JournalOptionsValidator().Validate(null, options).Succeeded);
        Assert.Null(options.Ttl.FailurePrediction);
    }

    [Fact]
    public async Task AddEdgeJournal_binds_the_Journal_section_and_refuses_to_start_on_bad_settings()
    {
        using var folder = new TempFolder();
        var good = new Dictionary<string, string?>
        {
            ["Journal:Path"] = folder.Database,
            ["Journal:QuotaBytes"] = "1048576",
            ["Journal:ReplayRatePerSecond"] = "12.5",
            ["Journal:Ttl:Heartbeat"] = "00:10:00",
            ["Journal:Ttl:FeatureBatch"] = "",
        };
        await using (var services = Build(good))
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            var options = services.GetRequiredService<IOptions<JournalOptions>>().Value;
            Assert.Equal(1_048_576, options.QuotaBytes);
            Assert.Equal(12.5, options.ReplayRatePerSecond);
            Assert.Equal(TimeSpan.FromMinutes(10), options.Ttl.Heartbeat);
            Assert.Null(options.Ttl.FeatureBatch);
            var journal = services.GetRequiredService<EdgeJournal>();
            Assert.True((await journal.AppendAsync(Journals.Entry(MessageClass.Heartbeat))).IsStored);
        }

        var bad = new Dictionary<string, string?>(good) { ["Journal:ReplayRatePerSecond"] = "0" };
        await using var badServices = Build(bad);
        var error = Assert.Throws<OptionsValidationException>(() => badServices.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Journal:ReplayRatePerSecond", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddEdgeJournal()
            .BuildServiceProvider();
    }
}
