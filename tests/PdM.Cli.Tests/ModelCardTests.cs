using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using PdM.Contracts.Models;
using PdM.Testing;

namespace PdM.Cli.Tests;

/// <summary>
/// The model card an approver reads: <c>pdm model package --label</c> writes it (numbers + SVG figures), the push
/// carries it, the registry serves it as HTML and JSON with the gateways' shadow agreement added as reports arrive, and
/// headless Chromium (Debian's <c>chromium</c>, installed by infra/local/deps.sh) renders the page with its plots.
/// </summary>
public sealed partial class ModelCardTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task A_packaged_model_with_labels_has_a_card_the_registry_serves_with_plots_chromium_renders_and_shadow_agreement_as_it_accrues()
    {
        var byo = ByoModel.Build(features: 16, output: "rul");
        var alice = new CliUser(fixture.Server);
        await alice.SignIn("alice", "data-scientist");
        var name = "card-" + Guid.NewGuid().ToString("N")[..8];
        var output = Path.Combine(byo.Directory, "package");

        var package = await alice.Run("model", "package", byo.Model, "--spec", byo.Spec, "--data", byo.Csv, "--label", "rul_true",
            "--name", name, "--version", "1.0.0", "--asset-class", "turbofan", "--output", output);
        Assert.True(package.ExitCode == ExitCodes.Success, package.ToString());
        Assert.Contains("card        model-card.json, card/predicted-vs-actual.svg, card/error-by-rul-band.svg", package.Output, StringComparison.Ordinal);
        Assert.StartsWith("<svg", await File.ReadAllTextAsync(Path.Combine(output, "card", "predicted-vs-actual.svg")), StringComparison.Ordinal);

        var push = await alice.Run("model", "push", output);
        Assert.True(push.ExitCode == ExitCodes.Success, push.ToString());
        var cardUrl = $"{fixture.Server.TrimEnd('/')}/api/models/{name}/versions/1.0.0/card";
        Assert.Contains("Model card: " + cardUrl, push.Output, StringComparison.Ordinal);
        var show = await alice.Run("model", "show", name, "1.0.0");
        Assert.Contains("card        " + cardUrl, show.Output, StringComparison.Ordinal);

        // JSON: the numbers, over every labelled row of the CSV (400), with the error per remaining-life band.
        var api = fixture.Admin;
        var json = await api.GetFromJsonAsync<JsonElement>(cardUrl);
        var regression = json.GetProperty("card").GetProperty("regression");
        Assert.Equal(400, regression.GetProperty("rows").GetInt32());
        Assert.True(regression.GetProperty("bands").GetArrayLength() >= 2);
        Assert.Equal(0, json.GetProperty("shadowComparedRows").GetInt64());

        // The rules on the same rows: the turbofan ruleset reads s4_mean, s11_mean and s12_mean; this CSV's columns are
        // s00_mean..s15_mean, so s11_mean and s12_mean are there but s4_mean is not. The card has no rules figures and
        // says exactly why, naming the one missing fact, instead of an empty section.
        var card = json.GetProperty("card");
        Assert.False(card.TryGetProperty("rules", out _));
        const string rulesNote = "Rules could not be evaluated on any of the 400 rows: ruleset turbofan-hpc-degradation@1.0.0 reads s4_mean, s11_mean, s12_mean, and the rows lack s4_mean.";
        Assert.StartsWith(rulesNote, card.GetProperty("rulesNote").GetString(), StringComparison.Ordinal);

        // HTML, as a browser renders it: Chromium's DOM has the plots with their marks.
        var dom = await RenderAsync(api, cardUrl);
        Assert.Equal(400, Marks(dom, "predicted-vs-actual", "circle"));
        Assert.True(Marks(dom, "error-by-rul-band", "rect") >= 2, "error-by-rul-band has no bars");
        Assert.Contains("No gateway has reported shadow statistics for this version yet", dom, StringComparison.Ordinal);
        Assert.Contains(rulesNote, dom, StringComparison.Ordinal);

        // A gateway's shadow report arrives: the card grows its agreement-over-time plot.
        var digest = (await alice.Run("model", "show", name, "1.0.0", "--json")).Json["packageDigest"]!.GetValue<string>();
        await fixture.Bus.Publish(new ShadowEvaluationReported
        {
            EventId = Guid.NewGuid(), GatewayId = "gw-card", SiteId = "plant-card", AssetClass = "turbofan",
            ProductionModelName = "fd001-rul", ProductionModelVersion = "1.0.0", CandidateModelName = name, CandidateModelVersion = "1.0.0",
            CandidateModelDigest = digest, ComparedRows = 500, AgreedRows = 460, AgreementRatio = 0.92, CandidateFailedRows = 0,
            ProductionMeanBatchLatencyMs = 0.1, CandidateMeanBatchLatencyMs = 0.1, CandidateMaxBatchLatencyMs = 0.2,
            PeriodStart = DateTimeOffset.UtcNow.AddMinutes(-10), PeriodEnd = DateTimeOffset.UtcNow, OccurredAt = DateTimeOffset.UtcNow,
        });
        await Eventually.Until(() => api.GetFromJsonAsync<JsonElement>(cardUrl), j => j.GetProperty("shadowComparedRows").GetInt64() == 500,
            TimeSpan.FromSeconds(30), "the shadow report on the card");
        var withShadow = await RenderAsync(api, cardUrl);
        Assert.True(Marks(withShadow, "shadow-agreement", "polyline") == 1, "no shadow-agreement line");
        Assert.Contains("460 of 500 compared rows agreed", withShadow, StringComparison.Ordinal);
    }

    /// <summary>The page as served (Accept: text/html), saved and opened by headless Chromium; its DOM after parsing.</summary>
    private static async Task<string> RenderAsync(HttpClient api, string cardUrl)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, cardUrl);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        using var response = await api.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var file = Path.Combine(Directory.CreateTempSubdirectory("pdm-card-").FullName, "card.html");
        await File.WriteAllTextAsync(file, await response.Content.ReadAsStringAsync());

        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "chromium is not installed: run infra/local/deps.sh start (installs Debian's chromium)");
        var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", $"--user-data-dir={Path.GetDirectoryName(file)}/profile", "--dump-dom", new Uri(file).AbsoluteUri })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish within two minutes");
        var dom = await stdout;
        Assert.True(process.ExitCode == 0 && dom.Contains("</html>", StringComparison.Ordinal), $"chromium exited {process.ExitCode}: {await stderr}");
        return dom;
    }

    /// <summary>How many marks of <paramref name="element"/> the plot named <paramref name="plot"/> draws in the DOM.</summary>
    private static int Marks(string dom, string plot, string element)
    {
        var svg = SvgElement().Matches(dom).Select(m => m.Value).FirstOrDefault(s => s.Contains($"data-plot=\"{plot}\"", StringComparison.Ordinal));
        Assert.True(svg is not null, $"no <svg data-plot=\"{plot}\"> in the rendered card");
        return Regex.Count(svg, $"<{element} class=\"mark\"");
    }

    [GeneratedRegex("<svg[\\s\\S]*?</svg>")]
    private static partial Regex SvgElement();
}
