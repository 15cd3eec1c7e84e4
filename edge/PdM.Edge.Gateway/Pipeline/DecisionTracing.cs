using System.Diagnostics;
using System.Globalization;
using PdM.Edge.Inference;

namespace PdM.Edge.Gateway.Pipeline;

/// <summary>
/// The span of one decision, <c>decide {asset}</c>: a root, linked (not parented) to the trace contexts of the messages
/// its window was fed by, since a window has many messages and a span one parent. Its children are the journal append
/// of each event it caused and, through the journal, the uplink publish. Nothing here runs unless a listener samples
/// the span: <see cref="ActivitySource.StartActivity(string, ActivityKind, ActivityContext, IEnumerable{KeyValuePair{string, object?}}?, IEnumerable{ActivityLink}?, DateTimeOffset)"/>
/// returns null otherwise, and the name and attributes are only built for a recorded span.
/// </summary>
internal static class DecisionTracing
{
    private const string SpanName = "decide";

    /// <summary>Starts (back-dated to when the model batch started) and ends the span of <paramref name="decision"/>; its context, or default when not recorded.</summary>
    public static ActivityContext Record(in Decision decision, ClosedWindow window, DateTimeOffset batchStarted, double batchMilliseconds)
    {
        var links = window.MessageLinks;
        using var activity = GatewayTelemetry.ActivitySource.StartActivity(
            SpanName, ActivityKind.Internal, parentContext: default, tags: null, links: links.Count == 0 ? null : Links(links), startTime: batchStarted);
        if (activity is null)
        {
            return default;
        }

        if (activity.IsAllDataRequested)
        {
            activity.DisplayName = SpanName + " " + decision.AssetId;
            var provenance = decision.Provenance;
            activity.SetTag("pdm.asset.id", decision.AssetId);
            activity.SetTag("pdm.asset.class", decision.AssetClass);
            activity.SetTag("pdm.window.start", decision.WindowStart.ToString("O", CultureInfo.InvariantCulture));
            activity.SetTag("pdm.window.end", decision.WindowEnd.ToString("O", CultureInfo.InvariantCulture));
            activity.SetTag("messaging.batch.message_count", window.MessageCount);
            activity.SetTag("pdm.decision.path", provenance.Path.ToString().ToLowerInvariant());
            activity.SetTag("pdm.decision.state", decision.HealthState.ToString());
            activity.SetTag("pdm.decision.confidence", decision.Confidence);
            activity.SetTag("pdm.inference.duration_ms", batchMilliseconds);
            SetIfPresent(activity, "pdm.model.name", provenance.ModelName);
            SetIfPresent(activity, "pdm.model.version", provenance.ModelVersion);
            SetIfPresent(activity, "pdm.model.digest", provenance.ModelDigest);
            SetIfPresent(activity, "pdm.ruleset.name", provenance.RulesetName);
            SetIfPresent(activity, "pdm.ruleset.version", provenance.RulesetVersion);
            SetIfPresent(activity, "pdm.decision.fallback_reason", provenance.FallbackReason);
            SetIfPresent(activity, "pdm.decision.failure_mode", decision.FailureMode);
            if (decision.FailureProbability is { } score)
            {
                activity.SetTag("pdm.decision.score", score);
            }

            if (decision.RulP50 is { } rul)
            {
                activity.SetTag("pdm.decision.rul_p50", rul);
            }
        }

        return activity.Context;
    }

    /// <summary>The W3C <c>traceparent</c> of <paramref name="context"/> (what the journal stores), or null for none.</summary>
    public static string? TraceParent(in ActivityContext context) =>
        context == default
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{(int)context.TraceFlags:x2}");

    private static ActivityLink[] Links(IReadOnlyList<ActivityContext> contexts)
    {
        var links = new ActivityLink[contexts.Count];
        for (var i = 0; i < links.Length; i++)
        {
            links[i] = new ActivityLink(contexts[i]);
        }

        return links;
    }

    private static void SetIfPresent(Activity activity, string name, string? value)
    {
        if (value is not null)
        {
            activity.SetTag(name, value);
        }
    }
}
