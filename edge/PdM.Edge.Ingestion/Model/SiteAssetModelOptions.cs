using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace PdM.Edge.Ingestion.Model;

/// <summary>
/// The site's asset model as configured (section <see cref="SectionName"/>): which assets exist, which sensors
/// each has, and what a plausible value of each sensor is. Bind it, validate it at start
/// (<see cref="Validate"/> or DataAnnotations), then compile it with <see cref="AssetModel.Create"/>.
/// </summary>
public sealed class SiteAssetModelOptions
{
    public const string SectionName = "AssetModel";

    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string SiteId { get; set; } = string.Empty;

    [Required]
    public List<AssetDefinition> Assets { get; set; } = [];

    /// <summary>Every problem found, empty when the model is usable. Cross-field rules DataAnnotations cannot express.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(SiteId) || SiteId.Contains('/', StringComparison.Ordinal) || SiteId.Contains('+', StringComparison.Ordinal) || SiteId.Contains('#', StringComparison.Ordinal))
        {
            errors.Add("SiteId must be a non-empty MQTT topic segment (no '/', '+', '#').");
        }

        var assetIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var asset in Assets)
        {
            if (!IsIdentifier(asset.Id))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"Asset id '{asset.Id}' must be 1-{AssetModel.MaxIdLength} characters without '/', '+', '#'."));
                continue;
            }

            if (!assetIds.Add(asset.Id))
            {
                errors.Add($"Asset id '{asset.Id}' is declared twice.");
            }

            var sensorIds = new HashSet<string>(StringComparer.Ordinal);
            foreach (var sensor in asset.Sensors)
            {
                if (!IsIdentifier(sensor.Id))
                {
                    errors.Add(string.Create(CultureInfo.InvariantCulture, $"Sensor id '{sensor.Id}' of asset '{asset.Id}' must be 1-{AssetModel.MaxIdLength} characters without '/', '+', '#'."));
                    continue;
                }

                if (!sensorIds.Add(sensor.Id))
                {
                    errors.Add($"Sensor '{sensor.Id}' is declared twice on asset '{asset.Id}'.");
                }

                if (double.IsNaN(sensor.ValidMin) || double.IsNaN(sensor.ValidMax) || sensor.ValidMin > sensor.ValidMax)
                {
                    errors.Add($"Sensor '{asset.Id}/{sensor.Id}': ValidMin must not exceed ValidMax.");
                }

                if (!(sensor.NominalRateHz >= 0) || double.IsInfinity(sensor.NominalRateHz))
                {
                    errors.Add($"Sensor '{asset.Id}/{sensor.Id}': NominalRateHz must be a finite number >= 0.");
                }
            }
        }

        return errors;
    }

    internal static bool IsIdentifier(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= AssetModel.MaxIdLength && id.AsSpan().IndexOfAny('/', '+', '#') < 0;
}

/// <summary>One monitored asset (a pump, a motor, a gearbox).</summary>
public sealed class AssetDefinition
{
    [Required]
    public string Id { get; set; } = string.Empty;

    /// <summary>ISO 14224 equipment class code, e.g. PU (pump), EM (electric motor).</summary>
    public string AssetClass { get; set; } = string.Empty;

    /// <summary>Optional CMMS references, e.g. "maximo:assetnum" → "11430", "sap:TechnicalObject" → "10000123".</summary>
    public Dictionary<string, string> CmmsRefs { get; set; } = new(StringComparer.Ordinal);

    public List<SensorDefinition> Sensors { get; set; } = [];
}

/// <summary>One signal of an asset, in the unit the devices publish it in.</summary>
public sealed class SensorDefinition
{
    [Required]
    public string Id { get; set; } = string.Empty;

    /// <summary>UCUM-style unit, e.g. "mm/s", "Cel". Readings carry no unit: the model's unit is the unit.</summary>
    public string Unit { get; set; } = string.Empty;

    /// <summary>Smallest physically plausible value; below it the reading is rejected as out_of_range.</summary>
    public double ValidMin { get; set; } = double.MinValue;

    public double ValidMax { get; set; } = double.MaxValue;

    /// <summary>How often the sensor is expected to report, for window sizing and staleness checks downstream.</summary>
    public double NominalRateHz { get; set; }
}
