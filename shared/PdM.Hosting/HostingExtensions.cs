using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace PdM.Hosting;

/// <summary>
/// What every PdM process gets: OpenTelemetry traces, metrics and logs, health endpoints and a Prometheus scrape
/// endpoint. One place, so a module never wires telemetry itself.
/// </summary>
public static class HostingExtensions
{
    /// <summary>Health checks carrying this tag run on <c>/health/ready</c>; MassTransit tags its bus check the same way.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Every PdM meter and activity source is named <c>PdM.*</c>.</summary>
    public const string TelemetryPrefix = "PdM.*";

    public static TBuilder AddPdMServiceDefaults<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var telemetry = ReadTelemetryOptions(builder.Configuration);

        // Every log entry written inside a span carries its trace and span id: over OTLP natively, on the JSON console
        // in its scopes, so "why did this work order appear?" leads from a log line to the trace and back.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (telemetry.Logging.Format == LogFormat.Json)
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        // OTEL_SERVICE_NAME, where set, names the service: a resource added in code otherwise overrides the SDK's own
        // reading of it, and the four module containers of one image (PdM.Host, each with its PdM:Modules) would all
        // report "pdm-host" however the deployment names them.
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName(builder.Configuration, serviceName)))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(TelemetryPrefix, "MassTransit")
                .AddPrometheusExporter());
        if (telemetry.Tracing.Enabled)
        {
            // MassTransit's own activity source carries the trace across the bus (traceparent in the message headers);
            // the HttpClient instrumentation puts the CMMS call in it. Parent-based: a device's or caller's sampled
            // trace is always continued (also through a link: LinkAwareSampler), a new one is kept with the configured probability.
            otel.WithTracing(tracing => tracing
                .SetSampler(new LinkAwareSampler(telemetry.Tracing.SampleRatio))
                .AddSource(TelemetryPrefix, "MassTransit")
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsInfrastructurePath(context.Request.Path))
                .AddHttpClientInstrumentation());
        }

        // Export over OTLP only where a collector is configured: a developer laptop has none, and an exporter
        // retrying against nothing only makes noise.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"]);

        return builder;
    }

    /// <summary>Maps <c>/health/live</c>, <c>/health/ready</c> and the Prometheus <c>/metrics</c> endpoint, all anonymous.</summary>
    public static WebApplication MapPdMDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Public by nature (orchestrators and scrapers carry no user token); every other endpoint names a policy.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains("live") }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        }).AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    /// <summary>The service name telemetry carries: <c>OTEL_SERVICE_NAME</c> when configured, else the process's default.</summary>
    private static string ServiceName(IConfiguration configuration, string defaultName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured ? configured : defaultName;
    }

    /// <summary>
    /// Where this process's telemetry goes, for its start-up line: metrics on <c>/metrics</c> (and OTLP when an endpoint
    /// is set), traces and logs over OTLP to that endpoint at the configured sampling, or said plainly when they are
    /// recorded but not exported, or off. An operator reads it before looking for a trace that was never sent.
    /// </summary>
    public static string DescribeTelemetryDestinations(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var telemetry = ReadTelemetryOptions(configuration);
        var endpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var otlp = string.IsNullOrWhiteSpace(endpoint) ? null : endpoint.Trim();
        var metrics = otlp is null ? "metrics: /metrics" : $"metrics: /metrics and OTLP {otlp}";
        var traces = !telemetry.Tracing.Enabled
            ? "traces: off (Telemetry:Tracing:Enabled=false)"
            : otlp is null
                ? "traces: not exported (set OTEL_EXPORTER_OTLP_ENDPOINT)"
                : string.Create(CultureInfo.InvariantCulture, $"traces: OTLP {otlp}, {telemetry.Tracing.SampleRatio:0.###} of new traces (Telemetry:Tracing:SampleRatio)");
        var logs = otlp is null ? $"logs: console ({telemetry.Logging.Format})" : $"logs: console ({telemetry.Logging.Format}) and OTLP {otlp}";
        return $"{metrics}   {traces}   {logs}";
    }

    /// <summary>
    /// <c>Telemetry</c>, bound and checked while the host is built: the sampler is fixed then, so a bad ratio stops the
    /// process before it starts, naming the key.
    /// </summary>
    public static TelemetryOptions ReadTelemetryOptions(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var result = new RecursiveDataAnnotationsValidator<TelemetryOptions>(TelemetryOptions.SectionName).Validate(null, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(TelemetryOptions.SectionName, typeof(TelemetryOptions), result.Failures);
        }

        return options;
    }

    private static bool IsInfrastructurePath(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/health", StringComparison.Ordinal) || path.StartsWithSegments("/metrics", StringComparison.Ordinal);
}
