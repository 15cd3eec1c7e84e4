using PdM.Features;

namespace PdM.Training.Tests;

public sealed class DatasetImportTests
{
    [Fact]
    public void Fd001_training_file_has_100_run_to_failure_engines()
    {
        var ds = TestData.Fd001;
        Assert.Equal(20_631, ds.Rows.Count);
        Assert.Empty(ds.Problems);
        Assert.Equal(100, ds.Units.Count);
        var min = int.MaxValue;
        var max = 0;
        foreach (var unit in ds.Units)
        {
            min = Math.Min(min, ds.LastCycle(unit));
            max = Math.Max(max, ds.LastCycle(unit));
        }

        Assert.Equal(128, min);
        Assert.Equal(362, max);
        Assert.Equal("963b5e22825b34d8b21c69e1aeb4af3e647050eb672ee8834ba4b5d91d2de0f8", ds.Sha256);
    }

    [Fact]
    public void Rul_labels_are_piecewise_linear_with_the_cap()
    {
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true);
        var set = CmapssTraining.BuildTrainingSet(TestData.Fd001, spec, rulCap: 125);
        var engine1 = TestData.Fd001.LastCycle(1);
        var seen = 0;
        foreach (var e in set.Examples)
        {
            if (e.Group != CmapssDataset.AssetId(1))
            {
                continue;
            }

            seen++;
            Assert.Equal(engine1 - e.Time, e.Target);
            Assert.Equal(Math.Min(125, engine1 - e.Time), e.Label);
            Assert.Equal(e.Time, e.Features[0]); // the cycle feature reads the reading's own cycle
        }

        // Count window of 30 cycles, hop 1: the first vector closes at cycle 30, the last at the failure cycle.
        Assert.Equal(engine1 - 29, seen);
    }

    [Fact]
    public void Test_file_gives_one_vector_per_unit_at_its_last_cycle()
    {
        var test = CmapssDataset.Load(TestData.TestFd001);
        Assert.Equal(13_096, test.Rows.Count);
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true);
        var last = CmapssTraining.LastVectorPerUnit(test, spec);
        Assert.Equal(100, last.Count);
        foreach (var (unit, values) in last)
        {
            Assert.Equal(test.LastCycle(unit), values[0]);
        }
    }

    [Fact]
    public void Ai4i_reads_the_bom_file_and_only_physical_columns()
    {
        var ds = TestData.Ai4i;
        Assert.Equal(10_000, ds.Rows.Count);
        Assert.Empty(ds.Problems);
        var failures = 0;
        foreach (var r in ds.Rows)
        {
            failures += r.MachineFailure ? 1 : 0;
        }

        Assert.Equal(339, failures);
        var set = Ai4iTraining.BuildTrainingSet(ds, Ai4iTraining.DefaultSpec());
        Assert.Equal(10_000, set.Examples.Count);
        Assert.Equal(["air_temperature_k", "process_temperature_k", "rotational_speed_rpm", "torque_nm", "tool_wear_min", "product_type"], set.FeatureNames);
        foreach (var mode in new[] { "twf", "hdf", "pwf", "osf", "rnf" })
        {
            Assert.DoesNotContain(set.FeatureNames, n => n.Contains(mode, StringComparison.OrdinalIgnoreCase));
        }

        // UDI 1: M14860, M, 298.1 K, 308.6 K, 1551 rpm, 42.8 Nm, 0 min, no failure.
        var first = set.Examples[0];
        Assert.Equal(1, first.Time);
        Assert.Equal(new[] { 298.1f, 308.6f, 1551f, 42.8f, 0f, 2f }, first.Features);
        Assert.Equal(0f, first.Label);
    }

    [Fact]
    public void Training_features_are_the_feature_engine_output_for_the_same_spec()
    {
        // D6: the vectors must be exactly what the gateway's streaming engine computes from the same readings.
        var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
        var set = CmapssTraining.BuildTrainingSet(TestData.Fd001, spec);
        var streamed = new List<float[]>();
        var engine = new FeatureEngine(spec, (in FeatureVector v) => streamed.Add(v.Values.ToArray()));
        var slot = engine.RegisterAsset(CmapssDataset.AssetId(1));
        foreach (var r in TestData.Fd001.Readings(new HashSet<string>(spec.Sensors), includeCycle: true))
        {
            if (r.AssetId == CmapssDataset.AssetId(1))
            {
                engine.Add(slot, engine.GetSensorIndex(r.Sensor), r.TimestampUnixMs, r.Value);
            }
        }

        engine.Flush();
        Assert.Equal(TestData.Fd001.LastCycle(1) - 29, streamed.Count);
        // ComputeOffline emits each engine's last window at its final flush, so compare by engine and cycle.
        var offline = set.Examples.Where(e => e.Group == CmapssDataset.AssetId(1)).OrderBy(e => e.Time).ToList();
        Assert.Equal(streamed.Count, offline.Count);
        for (var i = 0; i < streamed.Count; i++)
        {
            Assert.Equal(30 + i, offline[i].Time);
            Assert.Equal(streamed[i], offline[i].Features);
        }
    }
}
