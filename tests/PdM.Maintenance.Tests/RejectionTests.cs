using PdM.Contracts.Decisions;
using PdM.Testing;

namespace PdM.Maintenance.Tests;

[Collection(MaintenanceSuite.Name)]
public sealed class RejectionTests(MaintenanceFixture fixture)
{
    [Fact]
    public async Task Unmappable_and_malformed_predictions_are_rejected_with_a_reason_and_do_not_block_the_others()
    {
        var unknownAsset = MaintenanceFixture.Prediction("strict", asset: "GHOST-1");
        var noReference = MaintenanceFixture.Prediction("strict", asset: "NOREF-1");
        var malformed = MaintenanceFixture.Prediction("strict", asset: "PUMP-102") with { Confidence = 1.7 };
        var unknownSite = MaintenanceFixture.Prediction("nowhere");
        var good = MaintenanceFixture.Prediction("strict");
        foreach (var prediction in new[] { unknownAsset, noReference, malformed, unknownSite, good })
        {
            await fixture.Publish(prediction);
        }

        await fixture.DeliveredCase("strict");
        var rejections = await Eventually.Until(() => fixture.Rejections("strict"), r => r.Count == 3, "three rejections for site strict");

        var byPrediction = rejections.ToDictionary(r => r.PredictionId);
        Assert.Equal("unknown-asset", byPrediction[unknownAsset.PredictionId].Reason);
        Assert.Contains("'GHOST-1' is not in the asset registry of site 'strict'", byPrediction[unknownAsset.PredictionId].Detail, StringComparison.Ordinal);
        Assert.Equal("missing-cmms-reference", byPrediction[noReference.PredictionId].Reason);
        Assert.Contains("has no Maximo reference", byPrediction[noReference.PredictionId].Detail, StringComparison.Ordinal);
        Assert.Equal("malformed", byPrediction[malformed.PredictionId].Reason);
        Assert.Contains("Confidence 1.7 is outside 0..1", byPrediction[malformed.PredictionId].Detail, StringComparison.Ordinal);
        var site = Assert.Single(await Eventually.Until(() => fixture.Rejections("nowhere"), r => r.Count == 1, "the unknown site's rejection"));
        Assert.Equal("unknown-site", site.Reason);

        Assert.True(fixture.Logs.Contains("Rejected prediction", unknownAsset.PredictionId.ToString(), "unknown-asset"));
        Assert.Empty(await fixture.Cases("strict", "GHOST-1"));
        Assert.Empty(await fixture.Cases("strict", "NOREF-1"));
        Assert.Single(fixture.Stubs.Maximo.Tenant("strict").Records.Values);
    }
}
