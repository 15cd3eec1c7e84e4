using Microsoft.Extensions.Logging;

namespace PdM.Rules;

internal static partial class RulesLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Ruleset {Ruleset}@{Version} answers for asset class {AssetClass} ({File})")]
    public static partial void Activated(ILogger logger, string ruleset, string version, string assetClass, string file);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Ruleset rejected: {Problem}")]
    public static partial void Rejected(ILogger logger, string problem);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Asset class {AssetClass} no longer has a valid ruleset")]
    public static partial void Deactivated(ILogger logger, string assetClass);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Reloading rulesets from {Directory} failed; the loaded rulesets keep answering")]
    public static partial void ReloadFailed(ILogger logger, Exception exception, string directory);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Watching {Directory} failed; reloading everything")]
    public static partial void WatcherFailed(ILogger logger, Exception exception, string directory);
}
