using PdM.Edge.Gateway.Pipeline;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// A decision's ids come from its window: the same window decided again (after a crash, or by a shard's stand-in) gets
/// the same id, and anything else a different one.
/// </summary>
public sealed class DecisionIdsTests
{
    private static readonly DateTimeOffset WindowEnd = new(2026, 12, 6, 7, 55, 29, 160, TimeSpan.Zero);

    [Fact]
    public void The_same_window_gets_the_same_prediction_id_every_time()
    {
        Assert.Equal(DecisionIds.Prediction("plant-a", "P1", WindowEnd), DecisionIds.Prediction("plant-a", "P1", WindowEnd));
        // The same instant in another offset is the same window.
        Assert.Equal(DecisionIds.Prediction("plant-a", "P1", WindowEnd), DecisionIds.Prediction("plant-a", "P1", WindowEnd.ToOffset(TimeSpan.FromHours(2))));
    }

    [Fact]
    public void Another_window_asset_site_or_kind_gets_another_id()
    {
        var id = DecisionIds.Prediction("plant-a", "P1", WindowEnd);
        Guid[] others =
        [
            DecisionIds.Prediction("plant-a", "P1", WindowEnd.AddMilliseconds(1)),
            DecisionIds.Prediction("plant-a", "P2", WindowEnd),
            DecisionIds.Prediction("plant-b", "P1", WindowEnd),
            DecisionIds.Prediction("plant-aP", "1", WindowEnd),
            DecisionIds.Assessment("plant-a", "P1", WindowEnd),
        ];
        Assert.DoesNotContain(id, others);
        Assert.Equal(others.Length, others.Distinct().Count());
    }

    [Fact]
    public void Ids_are_rfc_9562_version_8_and_sort_by_window_end()
    {
        var earlier = DecisionIds.Prediction("plant-a", "Z9", WindowEnd);
        var later = DecisionIds.Prediction("plant-a", "A0", WindowEnd.AddMilliseconds(10));
        Assert.Equal(8, earlier.Version);
        Assert.Equal(0b10, earlier.Variant >> 2);
        Assert.True(earlier.CompareTo(later) < 0, $"{earlier} should sort before {later}");
        // The first 48 bits are the window end in Unix milliseconds.
        var text = earlier.ToString("N");
        Assert.Equal(WindowEnd.ToUnixTimeMilliseconds(), Convert.ToInt64(text[..12], 16));
    }

    [Fact]
    public void A_long_asset_id_is_hashed_whole()
    {
        var longAsset = new string('a', 600);
        Assert.NotEqual(DecisionIds.Prediction("plant-a", longAsset, WindowEnd), DecisionIds.Prediction("plant-a", longAsset + "b", WindowEnd));
    }
}
