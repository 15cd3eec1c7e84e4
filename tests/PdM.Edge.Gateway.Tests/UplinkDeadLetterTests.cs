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
    public async Task An_entry_that_cannot_be_written_aside_or_meets_a_full_disk_stays_in_the_journal_until_it_can_and_is_not_taken_for_the_link_being_down()
    {
        // A bus-restart threshold well inside the time the entry cannot be written aside: a local disk fault must not
        // restart the bus.
        await using var gateway = await StartGateway("deadletterblocked", "--Messaging:StalledPublishRestartAfter=00:00:05");
        var journal = gateway.Services.GetRequiredService<EdgeJournal>();
        var deadLetters = gateway.Services.GetRequiredService<UplinkDeadLetters>();
        // A file where the folder should be: the folder cannot be created (as on a read-only disk or a wrong mount).
        Directory.CreateDirectory(Path.GetDirectoryName(deadLetters.Folder)!);
        await File.WriteAllTextAsync(deadLetters.Folder, "in the way");

        var entry = await journal.AppendAsync(new JournalAppend(MessageClass.FailurePrediction, nameof(FailurePredicted), "application/json",
            "not json"u8.ToArray(), DateTimeOffset.UtcNow, Guid.NewGuid()));
        await Eventually.Until(() => Task.FromResult(gateway.Logs.Contains("can never be sent, and could not be written")), logged => logged,
            TimeSpan.FromSeconds(30), "the failed write logged");
        Assert.Equal(1, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
        Assert.Equal(0, gateway.Metrics.Total("pdm.uplink.dead_lettered"));

        // The link is fine: what is decided meanwhile goes out at once.
        using var device = await GatewayUnderTest.PublishOneZoneDReading(gateway.Site);
        await Eventually.Until(() => Task.FromResult(gateway.Events.OfType<FailurePredicted>()), p => p.Count == 1, TimeSpan.FromSeconds(30),
            "the prediction decided while the entry waits");

        // Then the folder is there but the disk is full: the letter's file is /dev/full, where every write fails with
        // ENOSPC ("No space left on device") as on a full disk, once the file is already open.
        File.Delete(deadLetters.Folder);
        Directory.CreateDirectory(deadLetters.Folder);
        var partial = Path.Combine(deadLetters.Folder, $"{entry.Id}-{nameof(FailurePredicted)}.json.partial");
        File.CreateSymbolicLink(partial, "/dev/full");
        await Eventually.Until(() => Task.FromResult(gateway.Logs.Contains("could not be written", "No space left on device")), logged => logged,
            TimeSpan.FromSeconds(60), "the write that met the full disk logged");
        Assert.Equal(1, journal.GetStatistics()[MessageClass.FailurePrediction].Count);
        Assert.Equal(0, gateway.Metrics.Total("pdm.uplink.dead_lettered"));
        // By now the entry has failed for longer than the restart threshold: neither the uplink nor the bus was blamed.
        Assert.False(gateway.Logs.Contains("Uplink down"), "an entry that could not be written aside was reported as the uplink being down");
        Assert.False(gateway.Logs.Contains("publishes have kept failing"), "an entry that could not be written aside was taken for a stalled broker channel");

        // Space again: the next try keeps the letter whole, the journal lets it go and no partial file is left beside it.
        File.Delete(partial);
        await Eventually.Until(() => Task.FromResult(gateway.Metrics.Total("pdm.uplink.dead_lettered")), n => n == 1, TimeSpan.FromSeconds(60),
            "the entry dead-lettered on a later try");
        var file = Assert.Single(Directory.GetFiles(deadLetters.Folder));
        Assert.EndsWith($"{entry.Id}-{nameof(FailurePredicted)}.json", file, StringComparison.Ordinal);
        using var letter = JsonDocument.Parse(await File.ReadAllTextAsync(file));
        Assert.Equal("not json"u8.ToArray(), Convert.FromBase64String(letter.RootElement.GetProperty("payload").GetString()!));
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
    private static Task<GatewayUnderTest> StartGateway(string prefix, params string[] more) =>
        GatewayUnderTest.StartAsync(LocalDependencies.UniqueName(prefix).Replace('_', '-'),
            ["--Gateway:SparkplugHost=false", $"--Gateway:FeatureSpecPath={TestFeatureSpecs.PerReading()}", .. TestGatewayArguments.Pumps(1), .. more]);
}
