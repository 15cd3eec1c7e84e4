using System.Diagnostics;
using System.Globalization;
using Npgsql;
using PdM.Testing;

namespace PdM.Observability.Tests;

/// <summary>
/// Debian's PostgreSQL exporter (the package infra/local/deps.sh installs, the Platform dashboard's PostgreSQL source)
/// run by a test against the real PostgreSQL the platform under test uses, on its own loopback port. Killed on dispose.
/// </summary>
public sealed class PostgresExporter : IAsyncDisposable
{
    private readonly Process _process;

    private PostgresExporter(Process process, string target)
    {
        _process = process;
        Target = target;
    }

    /// <summary>host:port to scrape.</summary>
    public string Target { get; }

    public static async Task<PostgresExporter> StartAsync(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        var port = DemoProcess.FreePort();
        var start = new ProcessStartInfo(PrometheusServer.Executable("prometheus-postgres-exporter"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        start.ArgumentList.Add("--disable-settings-metrics");
        start.Environment["DATA_SOURCE_NAME"] = string.Create(CultureInfo.InvariantCulture,
            $"postgresql://{Uri.EscapeDataString(settings.Username!)}:{Uri.EscapeDataString(settings.Password ?? "")}@{settings.Host}:{settings.Port}/{settings.Database}?sslmode=disable");
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exporter = new PostgresExporter(process, $"127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.Until(
            async () =>
            {
                try
                {
                    return process.HasExited || (await http.GetAsync(new Uri($"http://{exporter.Target}/metrics"))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            ready => ready,
            TimeSpan.FromSeconds(30),
            "the PostgreSQL exporter to serve /metrics");
        if (process.HasExited)
        {
            throw new InvalidOperationException($"prometheus-postgres-exporter exited with {process.ExitCode}");
        }

        return exporter;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
