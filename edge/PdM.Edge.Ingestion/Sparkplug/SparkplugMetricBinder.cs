using PdM.Edge.Ingestion.Model;

namespace PdM.Edge.Ingestion.Sparkplug;

/// <summary>
/// What a Sparkplug metric means to the site: which asset a node or device is (<see cref="SparkplugOptions.Assets"/>
/// mappings, else the device or node id), which sensor a metric is (the mapping's metrics, then
/// <see cref="SparkplugOptions.MetricSensors"/>, then the metric's own name), the alias table a birth declares, and the
/// readings a metric becomes. <see cref="SparkplugHostSession"/> keeps the session rules (births, seq, deaths,
/// rebirths) and asks this type about metrics.
/// </summary>
internal sealed class SparkplugMetricBinder
{
    private readonly AssetModel _model;
    private readonly SparkplugOptions _options;
    private readonly Dictionary<string, SparkplugAssetMapping> _mappings = new(StringComparer.Ordinal);

    /// <summary>Throws <see cref="ArgumentException"/> for a mapping that names an unknown asset or sensor.</summary>
    public SparkplugMetricBinder(AssetModel model, SparkplugOptions options)
    {
        _model = model;
        _options = options;
        foreach (var mapping in options.Assets)
        {
            if (!model.TryGetAsset(mapping.AssetId, out var asset))
            {
                throw new ArgumentException($"Sparkplug mapping {mapping.GroupId}/{mapping.EdgeNodeId}/{mapping.DeviceId} points at unknown asset '{mapping.AssetId}'.", nameof(options));
            }

            foreach (var sensorId in mapping.Metrics.Values)
            {
                if (!asset.TryGetSensor(sensorId, out _))
                {
                    throw new ArgumentException($"Sparkplug mapping for asset '{mapping.AssetId}' points at unknown sensor '{sensorId}'.", nameof(options));
                }
            }

            _mappings[MappingKey(mapping.GroupId, mapping.EdgeNodeId, string.IsNullOrEmpty(mapping.DeviceId) ? null : mapping.DeviceId)] = mapping;
        }
    }

    public RejectReason BuildTable(MetricTable table, Payload payload, AssetEntry? asset, SparkplugAssetMapping? mapping, out string detail)
    {
        detail = string.Empty;
        foreach (var metric in payload.Metrics)
        {
            if (!metric.HasName || metric.Name.Length == 0)
            {
                detail = "birth metric without a name";
                return RejectReason.Malformed;
            }

            var binding = new MetricBinding(metric.Name, metric.HasDatatype ? metric.Datatype : 0u, IsControlMetric(metric.Name), ResolveSensor(metric.Name, asset, mapping));
            // Historical copies of a metric may repeat its name in one birth; the first declaration defines it.
            table.ByName.TryAdd(metric.Name, binding);
            if (metric.HasAlias && !table.ByAlias.TryAdd(metric.Alias, binding) && table.ByAlias[metric.Alias].Name != metric.Name)
            {
                detail = "two birth metrics share one alias";
                return RejectReason.Malformed;
            }
        }

        return RejectReason.None;
    }

    public void EmitAll(MetricTable table, AssetEntry? asset, in SparkplugMessage context, ReadingTraits flags)
    {
        foreach (var metric in context.Payload.Metrics)
        {
            if (table.ByName.TryGetValue(metric.Name, out var binding))
            {
                Emit(metric, binding, asset, context, flags);
            }
        }
    }

    public void Emit(Payload.Types.Metric metric, MetricBinding binding, AssetEntry? asset, in SparkplugMessage context, ReadingTraits flags)
    {
        if (asset is null || binding.Control || (metric.HasIsNull && metric.IsNull))
        {
            return;
        }

        if (metric.IsHistorical)
        {
            flags |= ReadingTraits.Historical;
        }

        if (metric.IsTransient)
        {
            flags |= ReadingTraits.Transient;
        }

        long time;
        if (metric.HasTimestamp)
        {
            time = metric.Timestamp > long.MaxValue ? long.MaxValue : (long)metric.Timestamp;
        }
        else if (context.Payload.HasTimestamp)
        {
            time = context.Payload.Timestamp > long.MaxValue ? long.MaxValue : (long)context.Payload.Timestamp;
        }
        else
        {
            time = context.ReceivedMs;
            flags |= ReadingTraits.TimeFromReceipt;
        }

        if (binding.Sensor is null)
        {
            if (_options.RejectUnmappedMetrics)
            {
                context.Scope.Add(asset, null, time, double.NaN, flags, RejectReason.UnknownSensor, "metric maps to no sensor of the asset");
            }

            return;
        }

        var datatype = metric.HasDatatype ? metric.Datatype : binding.Datatype;
        if (!SparkplugCodec.TryGetNumericValue(metric, datatype, out var value))
        {
            context.Scope.Add(asset, binding.Sensor, time, double.NaN, flags, RejectReason.Malformed, "metric value is not numeric or does not match its datatype");
            return;
        }

        context.Scope.Add(asset, binding.Sensor, time, value, flags);
    }

    public AssetEntry? ResolveAsset(string groupId, string edgeNodeId, string? deviceId, out SparkplugAssetMapping? mapping)
    {
        if (_mappings.TryGetValue(MappingKey(groupId, edgeNodeId, deviceId), out mapping))
        {
            return _model.TryGetAsset(mapping.AssetId, out var mapped) ? mapped : null;
        }

        return _model.TryGetAsset(deviceId ?? edgeNodeId, out var asset) ? asset : null;
    }

    private SensorEntry? ResolveSensor(string metricName, AssetEntry? asset, SparkplugAssetMapping? mapping)
    {
        if (asset is null)
        {
            return null;
        }

        if (mapping is not null && mapping.Metrics.TryGetValue(metricName, out var mapped))
        {
            return asset.TryGetSensor(mapped, out var sensor) ? sensor : null;
        }

        if (_options.MetricSensors.TryGetValue(metricName, out var global) && asset.TryGetSensor(global, out var globalSensor))
        {
            return globalSensor;
        }

        return asset.TryGetSensor(metricName, out var byName) ? byName : null;
    }

    private static bool IsControlMetric(string name) =>
        name == SparkplugCodec.BdSeqMetric
        || name.StartsWith("Node Control/", StringComparison.Ordinal)
        || name.StartsWith("Device Control/", StringComparison.Ordinal)
        || name.StartsWith("Properties/", StringComparison.Ordinal);

    private static string MappingKey(string groupId, string edgeNodeId, string? deviceId) =>
        deviceId is null ? groupId + "\0" + edgeNodeId : groupId + "\0" + edgeNodeId + "\0" + deviceId;
}
