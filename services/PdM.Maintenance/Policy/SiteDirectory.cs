using Microsoft.Extensions.Options;
using PdM.Contracts.Decisions;

namespace PdM.Maintenance.Policy;

/// <summary>A prediction resolved against the site's configuration: its policy, its registry entry and its adapter.</summary>
public sealed record ResolvedAsset(string SiteId, SiteOptions Site, AssetOptions Asset, bool Registered);

/// <summary>A prediction Maintenance cannot act on, with a reason code and words for the operator.</summary>
public sealed record PredictionProblem(string Reason, string Detail);

/// <summary>
/// The configured sites and asset registry, with case-insensitive look-ups built once at start. Turns a prediction into
/// either a <see cref="ResolvedAsset"/> or a <see cref="PredictionProblem"/> — never an exception.
/// </summary>
public sealed class SiteDirectory
{
    private readonly Dictionary<string, SiteOptions> _sites;
    private readonly Dictionary<SiteOptions, Dictionary<string, AssetOptions>> _assets = [];
    private readonly MaintenanceOptions _options;

    public SiteDirectory(IOptions<MaintenanceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _sites = new Dictionary<string, SiteOptions>(_options.Sites, StringComparer.OrdinalIgnoreCase);
        foreach (var site in _sites.Values.Append(_options.DefaultSite))
        {
            _assets[site] = new Dictionary<string, AssetOptions>(site.Assets, StringComparer.OrdinalIgnoreCase);
        }
    }

    public IEnumerable<KeyValuePair<string, SiteOptions>> Sites => _sites;

    public SiteOptions? Site(string siteId) =>
        _sites.TryGetValue(siteId, out var site) ? site : _options.AcceptUnconfiguredSites ? _options.DefaultSite : null;

    public static FailureModeOptions FailureMode(SiteOptions site, string mode)
    {
        ArgumentNullException.ThrowIfNull(site);
        foreach (var (code, options) in site.FailureModes)
        {
            if (string.Equals(code, mode, StringComparison.OrdinalIgnoreCase))
            {
                return options;
            }
        }

        return new FailureModeOptions();
    }

    public (ResolvedAsset? Asset, PredictionProblem? Problem) Resolve(FailurePredicted prediction)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        if (Malformed(prediction) is { } malformed)
        {
            return (null, new PredictionProblem("malformed", malformed));
        }

        var site = Site(prediction.SiteId);
        if (site is null)
        {
            return (null, new PredictionProblem("unknown-site",
                $"Site '{prediction.SiteId}' is not configured under Maintenance:Sites and unconfigured sites are not accepted."));
        }

        if (!_assets[site].TryGetValue(prediction.AssetId, out var asset))
        {
            if (site.RequireRegisteredAssets)
            {
                return (null, new PredictionProblem("unknown-asset",
                    $"Asset '{prediction.AssetId}' is not in the asset registry of site '{prediction.SiteId}' (Maintenance:Sites:{prediction.SiteId}:Assets)."));
            }

            return (new ResolvedAsset(prediction.SiteId, site, new AssetOptions(), Registered: false), null);
        }

        var missing = site.Cmms.Adapter switch
        {
            CmmsAdapterKind.Maximo when asset.Maximo is null || (asset.Maximo.AssetNum is null && asset.Maximo.Location is null) =>
                "Maximo reference (Maximo:SiteId with AssetNum and/or Location)",
            CmmsAdapterKind.Sap when asset.Sap is null || string.IsNullOrEmpty(asset.Sap.TechnicalObject) =>
                "SAP technical object (Sap:TechnicalObject)",
            _ => null,
        };
        if (missing is not null)
        {
            return (null, new PredictionProblem("missing-cmms-reference",
                $"Asset '{prediction.AssetId}' of site '{prediction.SiteId}' has no {missing}, which the site's {site.Cmms.Adapter} adapter needs."));
        }

        return (new ResolvedAsset(prediction.SiteId, site, asset, Registered: true), null);
    }

    private static string? Malformed(FailurePredicted p)
    {
        if (p.PredictionId == Guid.Empty)
        {
            return "PredictionId is empty.";
        }

        if (string.IsNullOrWhiteSpace(p.SiteId) || p.SiteId.Length > 64)
        {
            return "SiteId is missing or longer than 64 characters.";
        }

        if (string.IsNullOrWhiteSpace(p.AssetId) || p.AssetId.Length > 128)
        {
            return "AssetId is missing or longer than 128 characters.";
        }

        if (string.IsNullOrWhiteSpace(p.FailureMode) || p.FailureMode.Length > 32)
        {
            return "FailureMode is missing or longer than 32 characters (expected an ISO 14224 mode code such as VIB).";
        }

        if (double.IsNaN(p.Confidence) || p.Confidence < 0 || p.Confidence > 1)
        {
            return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Confidence {p.Confidence} is outside 0..1.");
        }

        if (p.RemainingUsefulLife is { } rul && (double.IsNaN(rul.P50) || rul.P50 < 0))
        {
            return "RemainingUsefulLife.P50 is negative or not a number.";
        }

        if (p.Evidence is null || p.Provenance is null)
        {
            return "Evidence or Provenance is missing.";
        }

        return null;
    }
}
