using System.Globalization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Contracts.Telemetry;
using PdM.Telemetry.Store;
using PdM.Testing;

namespace PdM.Telemetry.Tests;

[Collection(TelemetrySuite.Name)]
public sealed class FeatureStoreTests(TelemetryFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_batch_on_the_bus_lands_in_its_day_partition_and_a_redelivery_or_replay_stores_nothing_twice()
    {
        var start = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(-1), TimeSpan.Zero).AddHours(10);
        var batch = Batch("gw-a", start, rows: 250);
        var messageId = Guid.NewGuid();
        await fixture.Bus.Publish(batch, c => c.MessageId = messageId);

        var rows = await Eventually.Until(() => CountAsync(batch.BatchId), n => n == 250, Wait, "the batch's rows");
        Assert.Equal(250, rows);
        var partition = await PartitionOfAsync(batch.BatchId);
        Assert.Equal("telemetry.feature_windows_p" + start.ToString("yyyyMMdd", CultureInfo.InvariantCulture), partition);

        // The same message again (broker redelivery), then the same batch under a new message id (journal replay).
        var duplicates = fixture.Metrics.Total("pdm.feature_store.duplicates_ignored");
        await fixture.Bus.Publish(batch, c => c.MessageId = messageId);
        await fixture.Bus.Publish(batch, c => c.MessageId = Guid.NewGuid());
        await Eventually.Until(() => Task.FromResult(fixture.Metrics.Total("pdm.feature_store.duplicates_ignored")), n => n >= duplicates + 2, Wait,
            "both duplicates to be recognised");

        Assert.Equal(250, await CountAsync(batch.BatchId));
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_batches WHERE batch_id = $1", batch.BatchId));
        var first = await fixture.ScalarAsync(
            "SELECT count(*) FROM telemetry.feature_windows WHERE batch_id = $1 AND asset_id = 'pump-0' AND feature_values = ARRAY[0, 0.5, 0]::real[]",
            batch.BatchId);
        Assert.Equal(1, first);
    }

    [Fact]
    public async Task A_window_with_undefined_features_crosses_the_bus_and_is_stored_with_its_NaN_and_infinities()
    {
        // A sensor that sent nothing in a window has NaN for every feature of it (its mean, last, ...). MassTransit's
        // serializer refused such a batch on every try until the bus was told to write NaN and ±Infinity as names.
        var batch = Batch("gw-nan", new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero).AddHours(1), rows: 2);
        batch = batch with { Rows = [batch.Rows[0] with { Values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity] }, batch.Rows[1]] };

        await fixture.Bus.Publish(batch);

        await Eventually.Until(() => CountAsync(batch.BatchId), n => n == 2, Wait, "both rows");
        Assert.Equal(1, await fixture.ScalarAsync(
            "SELECT count(*) FROM telemetry.feature_windows WHERE batch_id = $1 AND feature_values = ARRAY['NaN', 'Infinity', '-Infinity']::real[]",
            batch.BatchId));
    }

    [Fact]
    public async Task A_batch_whose_rows_do_not_match_its_feature_names_is_rejected_with_a_reason_and_stores_nothing()
    {
        var batch = Batch("gw-bad", new DateTimeOffset(2026, 11, 24, 11, 0, 0, TimeSpan.Zero), rows: 3);
        var bad = batch with { Rows = [.. batch.Rows, new FeatureWindowRow { AssetId = "pump-x", WindowStartUnixMs = 1, WindowEndUnixMs = 2, Values = [1f] }] };
        var store = fixture.Services.GetRequiredService<FeatureStore>();

        var result = await store.StoreAsync(bad, Guid.NewGuid(), "test", CancellationToken.None);

        Assert.Equal(BatchOutcome.Rejected, result.Outcome);
        Assert.Equal("feature_count_mismatch", result.Reason);
        Assert.Equal(0, await CountAsync(batch.BatchId));
    }

    [Fact]
    public async Task Retention_drops_a_partition_older_than_the_retention_and_keeps_the_recent_ones()
    {
        var store = fixture.Services.GetRequiredService<FeatureStore>();
        var partitions = fixture.Services.GetRequiredService<PartitionManager>();
        var old = Batch("gw-old", new DateTimeOffset(2001, 1, 1, 6, 0, 0, TimeSpan.Zero), rows: 10);
        var recent = Batch("gw-recent", DateTimeOffset.UtcNow.AddHours(-1), rows: 10);
        Assert.Equal(BatchOutcome.Stored, (await store.StoreAsync(old, Guid.NewGuid(), "test", CancellationToken.None)).Outcome);
        Assert.Equal(BatchOutcome.Stored, (await store.StoreAsync(recent, Guid.NewGuid(), "test", CancellationToken.None)).Outcome);
        Assert.Contains("feature_windows_p20010101", await partitions.ListAsync(CancellationToken.None));

        var dropped = await partitions.DropExpiredAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Contains("feature_windows_p20010101", dropped);
        Assert.DoesNotContain("feature_windows_p20010101", await partitions.ListAsync(CancellationToken.None));
        Assert.Equal(0, await CountAsync(old.BatchId));
        Assert.Equal(10, await CountAsync(recent.BatchId));
    }

    [Fact]
    public async Task A_maintenance_outcome_becomes_one_failure_label_even_when_delivered_twice()
    {
        var outcome = new MaintenanceOutcomeRecorded
        {
            OutcomeId = Guid.NewGuid(),
            CaseId = Guid.NewGuid(),
            WorkOrderId = Guid.NewGuid(),
            SiteId = "plant-1",
            AssetId = "PUMP-7",
            FailureMode = "VIB",
            Outcome = MaintenanceOutcome.FailureConfirmed,
            ClosedAt = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero),
            Source = "maximo",
            SourcePredictionIds = [Guid.NewGuid()],
            Provenance = new DecisionProvenance { Path = DecisionPath.Rules, GatewayId = "gw-a", RulesetName = "pump", RulesetVersion = "1.0.0" },
            OccurredAt = DateTimeOffset.UtcNow,
        };
        var messageId = Guid.NewGuid();
        await fixture.Bus.Publish(outcome, c => c.MessageId = messageId);
        await fixture.Bus.Publish(outcome, c => c.MessageId = Guid.NewGuid());

        await Eventually.Until(() => fixture.ScalarAsync("SELECT count(*) FROM telemetry.inbox WHERE consumer = 'telemetry.maintenance-outcome-recorded'"),
            n => n >= 2, Wait, "both deliveries");
        Assert.Equal(1, await fixture.ScalarAsync(
            "SELECT count(*) FROM telemetry.labels WHERE outcome_id = $1 AND kind = 'failure' AND label = 1 AND asset_id = 'PUMP-7'", outcome.OutcomeId));
    }

    internal static FeatureWindowsCollected Batch(string gateway, DateTimeOffset start, int rows)
    {
        var list = new List<FeatureWindowRow>(rows);
        var t0 = start.ToUnixTimeMilliseconds();
        for (var i = 0; i < rows; i++)
        {
            list.Add(new FeatureWindowRow
            {
                AssetId = "pump-" + (i % 5).ToString(CultureInfo.InvariantCulture),
                WindowStartUnixMs = t0 + (i * 1000L),
                WindowEndUnixMs = t0 + (i * 1000L) + 1000,
                Values = [i, i + 0.5f, i * 2f],
            });
        }

        return new FeatureWindowsCollected
        {
            BatchId = Guid.NewGuid(),
            GatewayId = gateway,
            SiteId = "plant-1",
            FeatureSpecName = "pump-basic",
            FeatureSpecDigest = "sha256:" + new string('a', 64),
            FeatureNames = ["vibration_rms_mean", "vibration_rms_max", "bearing_temperature_last"],
            Rows = list,
            OccurredAt = start,
        };
    }

    private Task<long> CountAsync(Guid batchId) => fixture.ScalarAsync("SELECT count(*) FROM telemetry.feature_windows WHERE batch_id = $1", batchId);

    private async Task<string> PartitionOfAsync(Guid batchId)
    {
        await using var command = fixture.DataSource.CreateCommand("SELECT DISTINCT tableoid::regclass::text FROM telemetry.feature_windows WHERE batch_id = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = batchId });
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
