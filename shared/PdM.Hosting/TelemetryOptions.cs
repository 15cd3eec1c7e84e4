using System.ComponentModel.DataAnnotations;

namespace PdM.Hosting;

/// <summary>Tracing and log output of a PdM process (section <c>Telemetry</c>); read once when the host is built.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    public TracingOptions Tracing { get; set; } = new();

    public LogOutputOptions Logging { get; set; } = new();
}

/// <summary><c>Telemetry:Tracing</c>: whether spans are recorded at all, and which share of new traces.</summary>
public sealed class TracingOptions
{
    /// <summary>
    /// The default share of new traces recorded. 10 %, not all: every closed window is a decision span, and a plant
    /// of a few hundred assets makes hundreds a second; a trace a device or a caller started sampled is always kept.
    /// </summary>
    public const double DefaultSampleRatio = 0.1;

    /// <summary>Off: no tracer provider, no listener, so no span is ever created (StartActivity returns null).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Parent-based ratio: a span with a parent follows the parent's decision; a new trace is kept with this probability.</summary>
    [Range(0.0, 1.0)]
    public double SampleRatio { get; set; } = DefaultSampleRatio;
}

public enum LogFormat
{
    /// <summary>The .NET console format, one line per entry (trace and span ids go over OTLP).</summary>
    Simple,

    /// <summary>One JSON object per entry on the console, with the trace and span ids in its scopes (for log shippers).</summary>
    Json,
}

/// <summary><c>Telemetry:Logging</c>: how the console log is written.</summary>
public sealed class LogOutputOptions
{
    public LogFormat Format { get; set; } = LogFormat.Simple;
}
