using System.Globalization;
using PdM.Features;

namespace PdM.Training;

/// <summary>Feature specs and labelled training sets for C-MAPSS RUL regression.</summary>
public static class CmapssTraining
{
    /// <summary>Piecewise-linear RUL cap (Li et al. 2018 and most later papers).</summary>
    public const int DefaultRulCap = 125;

    /// <summary>
    /// Count windows of <paramref name="windowSize"/> cycles, hop 1 (one vector per cycle once the window is full),
    /// with mean, slope (per cycle) and last value of each informative sensor; optionally the cycle count itself, and
    /// with <paramref name="longWindow"/> &gt; 0 also mean and slope over the last <paramref name="longWindow"/> cycles
    /// (a look-back window: fewer cycles early in an engine's life, so vectors still start at cycle
    /// <paramref name="windowSize"/>).
    /// </summary>
    public static FeatureSpec DefaultSpec(int windowSize = 30, bool includeCycle = false, int longWindow = 0, IReadOnlyList<string>? sensors = null)
    {
        var features = new List<FeatureDefinition>();
        if (includeCycle)
        {
            features.Add(new FeatureDefinition { Name = "cycle", Sensor = CmapssDataset.CycleSensor, Function = FeatureFunction.Last });
        }

        var look = longWindow > 0 ? WindowSpec.Count(longWindow) : null;
        var suffix = longWindow.ToString(CultureInfo.InvariantCulture);
        foreach (var s in sensors ?? CmapssDataset.InformativeSensors)
        {
            features.Add(new FeatureDefinition { Name = s + "_mean", Sensor = s, Function = FeatureFunction.Mean });
            features.Add(new FeatureDefinition { Name = s + "_slope", Sensor = s, Function = FeatureFunction.Slope });
            features.Add(new FeatureDefinition { Name = s + "_last", Sensor = s, Function = FeatureFunction.Last });
            if (look is not null)
            {
                features.Add(new FeatureDefinition { Name = s + "_mean" + suffix, Sensor = s, Function = FeatureFunction.Mean, Window = look });
                features.Add(new FeatureDefinition { Name = s + "_slope" + suffix, Sensor = s, Function = FeatureFunction.Slope, Window = look });
            }
        }

        var spec = new FeatureSpec { Window = WindowSpec.Count(windowSize, 1), Features = features };
        spec.Validate();
        return spec;
    }

    /// <summary>Feature vectors of a C-MAPSS file, computed by <see cref="FeatureEngine.ComputeOffline"/> with <paramref name="spec"/>.</summary>
    public static IReadOnlyList<FeatureVectorSnapshot> ComputeFeatures(CmapssDataset dataset, FeatureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(spec);
        var sensors = new HashSet<string>(spec.Sensors, StringComparer.Ordinal);
        return FeatureEngine.ComputeOffline(spec, dataset.Readings(sensors, sensors.Contains(CmapssDataset.CycleSensor)));
    }

    /// <summary>
    /// Every feature vector of a run-to-failure file, labelled RUL = min(cap, T_fail − t) where T_fail is the unit's
    /// last cycle and t the last cycle of the vector's window. Target = the uncapped T_fail − t.
    /// </summary>
    public static TrainingSet BuildTrainingSet(CmapssDataset dataset, FeatureSpec spec, int rulCap = DefaultRulCap)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rulCap);
        var vectors = ComputeFeatures(dataset, spec);
        var examples = new List<TrainingExample>(vectors.Count);
        foreach (var v in vectors)
        {
            var unit = CmapssDataset.UnitOf(v.AssetId);
            var cycle = CmapssDataset.CycleOf(v);
            var rul = dataset.LastCycle(unit) - cycle;
            examples.Add(new TrainingExample(v.AssetId, cycle, v.Values, Math.Min(rulCap, rul), rul) { ExactFeatures = v.ExactValues });
        }

        return new TrainingSet(spec, examples, dataset.Name, dataset.Sha256);
    }

    /// <summary>The feature vector at each unit's last observed cycle (the test-set question), by unit number.</summary>
    public static SortedDictionary<int, float[]> LastVectorPerUnit(CmapssDataset dataset, FeatureSpec spec)
    {
        var last = new SortedDictionary<int, (int Cycle, float[] Values)>();
        foreach (var v in ComputeFeatures(dataset, spec))
        {
            var unit = CmapssDataset.UnitOf(v.AssetId);
            var cycle = CmapssDataset.CycleOf(v);
            if (!last.TryGetValue(unit, out var seen) || cycle > seen.Cycle)
            {
                last[unit] = (cycle, v.Values);
            }
        }

        var result = new SortedDictionary<int, float[]>();
        foreach (var (unit, entry) in last)
        {
            result[unit] = entry.Values;
        }

        return result;
    }

    /// <summary>Reads NASA's RUL_FD00x.txt format: one integer per line (trailing spaces allowed), in unit order.</summary>
    public static IReadOnlyList<int> ReadTrueRul(string path)
    {
        var values = new List<int>();
        foreach (var line in File.ReadLines(path))
        {
            var text = line.Trim();
            if (text.Length > 0)
            {
                values.Add(int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture));
            }
        }

        return values;
    }
}
