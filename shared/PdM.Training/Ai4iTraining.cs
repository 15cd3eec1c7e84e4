using PdM.Features;

namespace PdM.Training;

/// <summary>Feature spec and labelled training set for AI4I 2020 failure classification.</summary>
public static class Ai4iTraining
{
    /// <summary>
    /// One process per vector (tumbling count window of one tick) with the last value of each physical input: the
    /// data set's rows are independent processes, so there is no history to summarise.
    /// </summary>
    public static FeatureSpec DefaultSpec()
    {
        var features = new List<FeatureDefinition>();
        foreach (var s in Ai4iDataset.Sensors)
        {
            features.Add(new FeatureDefinition { Name = s, Sensor = s, Function = FeatureFunction.Last });
        }

        var spec = new FeatureSpec { Window = WindowSpec.Count(1), Features = features };
        spec.Validate();
        return spec;
    }

    /// <summary>
    /// The physics the failure modes are defined on, as model-internal columns over <see cref="DefaultSpec"/>'s order
    /// (air 0, process 1, speed 2, torque 3, wear 4, type 5): temperature difference (HDF), torque × speed ∝ power
    /// (PWF), tool wear × torque (OSF). Trees split on one column at a time; these make the modes axis-aligned.
    /// </summary>
    public static IReadOnlyList<DerivedFeature> DerivedFeatures { get; } =
    [
        new("temperature_difference_k", DerivedOperation.Difference, 1, 0),
        new("torque_x_speed", DerivedOperation.Product, 3, 2),
        new("wear_x_torque", DerivedOperation.Product, 4, 3),
    ];

    /// <summary>
    /// Every process as an example labelled with <c>Machine failure</c>; group = UDI (rows are independent).
    /// <paramref name="withDerived"/> adds <see cref="DerivedFeatures"/> (they require <see cref="DefaultSpec"/>).
    /// </summary>
    public static TrainingSet BuildTrainingSet(Ai4iDataset dataset, FeatureSpec spec, bool withDerived = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var failures = new Dictionary<int, bool>(dataset.Rows.Count);
        foreach (var row in dataset.Rows)
        {
            failures[row.Udi] = row.MachineFailure;
        }

        var vectors = FeatureEngine.ComputeOffline(spec, dataset.Readings());
        var examples = new List<TrainingExample>(vectors.Count);
        foreach (var v in vectors)
        {
            var udi = Ai4iDataset.UdiOf(v);
            var label = failures[udi] ? 1f : 0f;
            examples.Add(new TrainingExample(udi.ToString(System.Globalization.CultureInfo.InvariantCulture), udi, v.Values, label, label) { ExactFeatures = v.ExactValues });
        }

        return new TrainingSet(spec, examples, "ai4i2020", dataset.Sha256, withDerived ? DerivedFeatures : []);
    }
}
