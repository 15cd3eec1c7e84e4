using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PdM.Hosting;
using Xunit;

namespace PdM.Observability.Tests;

/// <summary>The start-up line that tells an operator where metrics, traces and logs go (<c>make run</c> prints it).</summary>
public sealed class TelemetryDestinationsTests
{
    [Fact]
    public void Without_an_otlp_endpoint_the_line_says_traces_are_not_exported()
    {
        var line = HostingExtensions.DescribeTelemetryDestinations(Configuration());

        Assert.Contains("metrics: /metrics", line, StringComparison.Ordinal);
        Assert.Contains("traces: not exported (set OTEL_EXPORTER_OTLP_ENDPOINT)", line, StringComparison.Ordinal);
        Assert.Contains("logs: console (Simple)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void With_an_otlp_endpoint_the_line_names_it_and_the_sampling()
    {
        var line = HostingExtensions.DescribeTelemetryDestinations(Configuration(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"), ("Telemetry:Tracing:SampleRatio", "0.25"), ("Telemetry:Logging:Format", "Json")));

        Assert.Contains("traces: OTLP http://collector:4317, 0.25 of new traces", line, StringComparison.Ordinal);
        Assert.Contains("metrics: /metrics and OTLP http://collector:4317", line, StringComparison.Ordinal);
        Assert.Contains("logs: console (Json) and OTLP http://collector:4317", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Tracing_switched_off_is_said_and_a_bad_ratio_is_refused()
    {
        Assert.Contains("traces: off", HostingExtensions.DescribeTelemetryDestinations(Configuration(("Telemetry:Tracing:Enabled", "false"))), StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => HostingExtensions.DescribeTelemetryDestinations(Configuration(("Telemetry:Tracing:SampleRatio", "1.5"))));
    }

    [Theory]
    [InlineData(null, "pdm-host")]
    [InlineData("pdm-maintenance", "pdm-maintenance")]
    public void The_deployment_names_the_service_with_OTEL_SERVICE_NAME_and_the_process_default_stands_otherwise(string? configured, string expected)
    {
        // As docker-compose and the Kubernetes manifests run a module: PdM.Host's default name, OTEL_SERVICE_NAME set.
        var builder = WebApplication.CreateBuilder();
        if (configured is not null)
        {
            builder.Configuration.AddInMemoryCollection([new("OTEL_SERVICE_NAME", configured)]);
        }

        builder.AddPdMServiceDefaults("pdm-host");
        using var app = builder.Build();

        // The resource every exported metric, span and log carries, as the SDK built it.
        var resource = app.Services.GetRequiredService<MeterProvider>().GetResource();
        Assert.Equal(expected, resource.Attributes.Single(a => a.Key == "service.name").Value);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
}
