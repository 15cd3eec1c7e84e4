using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PdM.Testing;

namespace PdM.Observability.Tests;

/// <summary>The answer to one instant query: an error, or how many series came back.</summary>
public sealed record QueryResult(string? Error, int Series)
{
    public override string ToString() => Error ?? $"{Series} series";
}

/// <summary>
/// One scrape job of the test's Prometheus: what the shipped scrape configurations (infra/prometheus/prometheus.yml,
/// infra/local/deps.sh) scrape, pointed at this test's processes. <paramref name="Families"/> are the <c>family</c>
/// parameters of RabbitMQ's <c>/metrics/detailed</c>.
/// </summary>
public sealed record ScrapeJob(string Name, IReadOnlyList<string> Targets, string MetricsPath = "/metrics", IReadOnlyList<string>? Families = null)
{
    public string ToYaml()
    {
        var yaml = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"  - job_name: {Name}\n")
            .Append(CultureInfo.InvariantCulture, $"    metrics_path: {MetricsPath}\n");
        if (Families is { Count: > 0 })
        {
            yaml.Append(CultureInfo.InvariantCulture, $"    params:\n      family: [{string.Join(", ", Families)}]\n");
        }

        return yaml.Append(CultureInfo.InvariantCulture, $"    static_configs:\n      - targets: [{string.Join(", ", Targets.Select(t => $"'{t}'"))}]\n").ToString();
    }
}

/// <summary>
/// A real Prometheus (Debian's package, installed by infra/local/deps.sh) run by a test: its own configuration under a
/// temporary folder (scraping the given jobs every second, evaluating the shipped rules every second), its own
/// TSDB there, its own port. Stopped and deleted on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _log = new();

    private PrometheusServer(Process process, string folder, Uri address)
    {
        _process = process;
        _folder = folder;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The prometheus executable; a missing one fails the test with instructions (never a skip, see LocalDependencies).</summary>
    public static string Executable() => Executable("prometheus");

    /// <summary>A Debian-packaged executable on the PATH (prometheus, prometheus-postgres-exporter); missing fails with instructions.</summary>
    public static string Executable(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"{name} is not installed: run `bash infra/local/deps.sh start` (it installs Debian's {name} package), as make test does.");
    }

    public static async Task<PrometheusServer> StartAsync(IReadOnlyList<ScrapeJob> jobs, string rulesFile)
    {
        var folder = Path.Combine(Path.GetTempPath(), "pdm-tests", LocalDependencies.UniqueName("prometheus"));
        Directory.CreateDirectory(folder);
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            # Written by tests/PdM.Observability.Tests: one-second scrapes and rule evaluations, so a test sees
            # rates and alert transitions within seconds.
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
              - {rulesFile}
            scrape_configs:

            """) + string.Concat(jobs.Select(j => j.ToYaml())));

        var port = DemoProcess.FreePort();
        var start = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add($"--config.file={config}");
        start.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(folder, "data")}");
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        var process = Process.Start(start)!;
        var server = new PrometheusServer(process, folder, new Uri($"http://127.0.0.1:{port}/"));
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.Until(server.IsReadyAsync, ready => ready || process.HasExited, TimeSpan.FromSeconds(60), "Prometheus to be ready");
            if (process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}: {server.Log}");
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Evaluates <paramref name="expression"/> now through <c>/api/v1/query</c>.</summary>
    public async Task<QueryResult> QueryAsync(string expression)
    {
        using var response = await Http.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(expression), UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            return new QueryResult($"{root.GetProperty("errorType").GetString()}: {root.GetProperty("error").GetString()}", 0);
        }

        var data = root.GetProperty("data");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" or "matrix" => new QueryResult(null, data.GetProperty("result").GetArrayLength()),
            _ => new QueryResult(null, 1), // a scalar or string always has a value
        };
    }

    /// <summary>The alerts Prometheus reports through <c>/api/v1/alerts</c>, as (name, state, labels) rows.</summary>
    public async Task<IReadOnlyList<(string Name, string State, string Labels)>> AlertsAsync()
    {
        using var body = JsonDocument.Parse(await Http.GetStringAsync(new Uri("api/v1/alerts", UriKind.Relative)));
        return [.. body.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray()
            .Select(a => (a.GetProperty("labels").GetProperty("alertname").GetString()!, a.GetProperty("state").GetString()!, a.GetProperty("labels").ToString()))];
    }

    /// <summary>Every loaded rule's name and health (ok, err, unknown) with its last error, from <c>/api/v1/rules</c>.</summary>
    public async Task<IReadOnlyList<(string Name, string Health, string? Error)>> RulesAsync()
    {
        using var body = JsonDocument.Parse(await Http.GetStringAsync(new Uri("api/v1/rules", UriKind.Relative)));
        return [.. body.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => (r.GetProperty("name").GetString()!, r.GetProperty("health").GetString()!, r.TryGetProperty("lastError", out var e) ? e.GetString() : null))];
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A TSDB file still closing: the temp folder is swept with the rest of pdm-tests.
        }
    }

    private async Task<bool> IsReadyAsync()
    {
        try
        {
            using var response = await Http.GetAsync(new Uri("-/ready", UriKind.Relative));
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
