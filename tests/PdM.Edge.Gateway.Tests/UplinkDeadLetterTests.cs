using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PdM.Contracts.Decisions;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Journal;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A journal entry the uplink can never send, on the real RabbitMQ: one whose bytes do not read as its type (what a
/// corrupt entry reads as). It used to be retried for good, each try holding the whole uplink in its "down" backoff.
/// </summary>
public sealed class UplinkDeadLetterTests
{
    [Fact]
    public async Task An_entry_that_can_never_be_sent_is_kept_aside_counted_and_the_events_behind_it_arrive_at_once()
    {
        await using var gateway = await StartGateway("deadletter");
        var journal = gateway.Services.GetRequiredService<EdgeJournal>();
        var deadLetters = gateway.Services.GetRequiredService<UplinkDeadLetters>();
        var corrupt = Encoding.UTF8.GetBytes("""{"predictionId":"01a2""");
        var corruptId = Guid.NewGuid();

        await journal.AppendAsync(new JournalAppend(MessageClass.FailurePrediction, nameof(FailurePredicted), "application/json", corrupt,
            DateTimeOffset.UtcNow, corruptId));
        using var device = await GatewayUnderTest.PublishOneZoneDReading(gateway.Site);

        // The prediction journaled behind it arrives, the corrupt entry is counted once and leaves the journal.
        var prediction = await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>()), p => p.Count == 1, TimeSpan.FromSeconds(30),
            "the prediction behind the corrupt entry");
        Assert.Equal("P0", prediction[0].AssetId);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.uplink.dead_lettered", "message_type", nameof(FailurePredicted))), n => n == 1,
            TimeSpan.FromSeconds(30), "the corrupt entry dead-lettered");
        await Eventually.Until(() => Task.FromResult(journal.GetStatistics()[MessageClass.FailurePrediction].Count), n => n == 0, TimeSpan.FromSeconds(30),
            "no prediction left in the journal");

        // Kept on disk as it was, with the reason: an operator can read it and append it again once fixed.
        var file = Assert.Single(Directory.GetFiles(deadLetters.Folder));
        using var letter = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        Assert.Equal(corruptId, letter.RootElement.GetProperty("messageId").GetGuid());
        Assert.Equal(nameof(FailurePredicted), letter.RootElement.GetProperty("messageType").GetString());
        Assert.Equal(corrupt, Convert.FromBase64String(letter.RootElement.GetProperty("payload").GetString()!));
        Assert.Equal(nameof(JsonException), letter.RootElement.GetProperty("failure").GetString());
        Assert.True(gateway.Logs.Contains("can never be sent", nameof(FailurePredicted), file), "the dead letter is logged with its file");

        // Never reported as the link being down: the link was fine.
        Assert.False(gateway.Logs.Contains("Uplink down"), "the uplink was reported down");
    }

    [Fact]
    public async Task An_entry_that_cannot_be_written_aside_stays_in_the_journal_until_it_can()
    {
        await using var gateway = await StartGateway("deadletterblocked");
        var journal = gateway.Services.GetRequiredService<EdgeJournal>();
        var deadLetters = gateway.Services.GetRequiredService<UplinkDeadLetters>();
        // A file where the folder should be: the folder cannot be created (as on a full or read-only disk).
        Directory.CreateDirectory(Path.GetDirectoryName(deadLetters.Folder)!);
        await File.WriteAllTextAsync(deadLetters.Folder, "in the way");

        await journal.AppendAsync(new JournalAppend(MessageClass.FailurePrediction, nameof(FailurePredicted), "application/json", "not json"u8.ToArray(),
            DateTimeOffset.UtcNow, Guid.NewGuid()));
        await Eventually.Until(() => Task.FromResult(gateway.Logs.Contains("can never be sent, and could not be written")), logged => logged,
            TimeSpan.FromSeconds(30), "the failed write logged");
        Assert.Equal(1, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
        Assert.Equal(0, gateway.Metrics.Total("pdm.uplink.dead_lettered"));

        // Once the folder can be written, the next try keeps it there and the journal lets it go.
        File.Delete(deadLetters.Folder);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.uplink.dead_lettered")), n => n == 1, TimeSpan.FromSeconds(60),
            "the entry dead-lettered on a later try");
        Assert.Single(Directory.GetFiles(deadLetters.Folder));
        Assert.Equal(0, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
    }

    [Fact]
    public async Task An_entry_of_a_type_this_build_does_not_know_is_kept_for_a_newer_build_and_holds_nothing_up()
    {
        // What a gateway rolled back to an older build finds in its journal: an event type only the newer build sends.
        await using var gateway = await StartGateway("unknowntype");
        var journal = gateway.Services.GetRequiredService<EdgeJournal>();
        await journal.AppendAsync(new JournalAppend(MessageClass.FailurePrediction, "AssetTeleported", "application/json", "{}"u8.ToArray(),
            DateTimeOffset.UtcNow, Guid.NewGuid()));
        using var device = await GatewayUnderTest.PublishOneZoneDReading(gateway.Site);

        await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>()), p => p.Count == 1, TimeSpan.FromSeconds(30),
            "the prediction behind the unknown entry");
        await Eventually.Until(() => Task.FromResult(gateway.Logs.Contains("does not send", "unknown message type AssetTeleported", "offered again in 60 min")),
            logged => logged, TimeSpan.FromSeconds(30), "the unknown entry logged");

        // Still in the journal for the newer build, never dead-lettered, never reported as the link being down.
        Assert.Equal(1, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
        Assert.Equal(0, gateway.Metrics.Total("pdm.uplink.dead_lettered"));
        Assert.False(gateway.Logs.Contains("Uplink down"), "the uplink was reported down");
    }

    /// <summary>A gateway with pump P0, whose one zone-D reading (<see cref="GatewayUnderTest.PublishOneZoneDReading"/>) raises one prediction.</summary>
    private static Task<GatewayUnderTest> StartGateway(string prefix) =>
        GatewayUnderTest.StartAsync(LocalDependencies.UniqueName(prefix).Replace('_', '-'),
            ["--Gateway:SparkplugHost=false", $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}", .. TestGatewayArguments.Pumps(1)]);
}
