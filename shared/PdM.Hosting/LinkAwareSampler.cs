using System.Diagnostics;
using OpenTelemetry.Trace;

namespace PdM.Hosting;

/// <summary>
/// Parent-based ratio sampling that also keeps a new trace linked to a sampled one. A gateway decision is a root
/// linked (not parented) to its window's messages, and a replayed uplink publish a root linked to its decision: when a
/// device or the decision was sampled, the trace it leads to is kept too, whatever the ratio.
/// </summary>
public sealed class LinkAwareSampler(double ratio) : Sampler
{
    private readonly ParentBasedSampler _inner = new(new TraceIdRatioBasedSampler(ratio));

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        if (samplingParameters.ParentContext.TraceId == default && samplingParameters.Links is { } links)
        {
            foreach (var link in links)
            {
                if ((link.Context.TraceFlags & ActivityTraceFlags.Recorded) != 0)
                {
                    return new SamplingResult(SamplingDecision.RecordAndSample);
                }
            }
        }

        return _inner.ShouldSample(samplingParameters);
    }
}
