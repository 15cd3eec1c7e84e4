using Xunit.Abstractions;
using System.Net.Http.Json;
using System.Text.Json;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// What <c>make run</c> shows a newcomer: the demo (PdM.Demo: the host's modules with an embedded MQTT broker, the
/// in-memory bus, simulator and gateway in-process) turns simulated telemetry into a work order, and stops cleanly on
/// Ctrl-C. Runs the built executable as its own process, as the Makefile does, against the private PostgreSQL.
/// </summary>
public sealed class AllInOneDemoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Demo_host_raises_a_work_order_from_simulated_telemetry_and_stops_on_ctrl_c()
    {
        await using var database = await TestDatabase.CreateAsync("demo");
        var httpPort = DemoProcess.FreePort();
        var mqttPort = DemoProcess.FreePort();
        var cmmsPort = DemoProcess.FreePort();
        string[] settings =
        [
            $"--ConnectionStrings:Postgres={database.ConnectionString}",
            $"--Urls=http://127.0.0.1:{httpPort}",
            $"--Demo:Edge:EmbeddedBrokerPort={mqttPort}",
            $"--Gateway:Mqtt:Port={mqttPort}",
            $"--Simulator:Mqtt:Port={mqttPort}",
            "--Simulator:DegradationSeconds=5",
            $"--CmmsStubs:Port={cmmsPort}",
            $"--Maintenance:Sites:demo-plant:Cmms:Maximo:BaseUrl=http://127.0.0.1:{cmmsPort}/maximo",
            "--CmmsStubs:CompleteFirstAfter=00:00:03",
            "--Maintenance:StatusSync:Interval=00:00:02",
            $"--Journal:Path={Path.Combine(Path.GetTempPath(), "pdm-tests", database.Name, "journal.db")}",
            $"--Inference:ModelStorePath={Path.Combine(Path.GetTempPath(), "pdm-tests", database.Name, "models")}",
            $"--Demo:StateDirectory={Path.Combine(Path.GetTempPath(), "pdm-tests", database.Name, "demo")}",
        ];

        var (migrateExit, migrateOutput) = await DemoProcess.RunToEndAsync(["migrate", .. settings]);
        Assert.True(migrateExit == 0, migrateOutput);
        Assert.Contains("migrate: Maintenance: applied", migrateOutput, StringComparison.Ordinal);

        using var host = DemoProcess.Start(settings);
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
            var workOrders = await Eventually.Until(
                async () => await TryGetWorkOrders(api),
                list => list.GetArrayLength() > 0,
                TimeSpan.FromSeconds(60),
                "the demo's first work order");

            var first = workOrders[0];
            Assert.Equal("PUMP-102", first.GetProperty("assetId").GetString());
            Assert.Equal("VIB", first.GetProperty("failureMode").GetString());
            Assert.Equal("demo-plant", first.GetProperty("siteId").GetString());
            Assert.Contains("Work order pdm:demo-plant:PUMP-102:VIB:", host.Console, StringComparison.Ordinal);
            Assert.Contains("/api/work-orders", host.Console, StringComparison.Ordinal);

            // The outcome comes back, visibly: the stub's planner completes that first work order in "Maximo", the
            // status sync reads it as an outcome, and the registry shows the live precision of the ruleset that decided it.
            var closedText = await Eventually.Until(
                () => Task.FromResult(host.Console),
                text => text.Contains("Live precision of rules", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60),
                "the first work order's outcome and the deciding ruleset's live precision on the console");
            Assert.Contains("CMMS stub: the planner completed Maximo record", closedText, StringComparison.Ordinal);
            Assert.Contains("closed: FailureConfirmed, code VIB, from maximo", closedText, StringComparison.Ordinal);
            var live = await api.GetFromJsonAsync<JsonElement>("/api/live-precision");
            var rules = live.EnumerateArray().First(l => l.GetProperty("path").GetString() == "rules");
            Assert.Equal(1.0, rules.GetProperty("livePrecision").GetDouble());

            // The loop closes: the demo's data scientist trains a C-MAPSS RUL model through the API, the registry
            // registers it, the demo's approver promotes it through the API, the in-process gateway loads it, and
            // turbofan decisions move from the rules to the model — on the console, in the gateway's decisions API and
            // on the work orders.
            var modelWorkOrder = await Eventually.Until(
                async () => await TryGetWorkOrders(api),
                list => list.EnumerateArray().Any(DecidedByModel),
                TimeSpan.FromSeconds(120),
                "a work order decided by the trained model");
            var byModel = modelWorkOrder.EnumerateArray().First(DecidedByModel);
            Assert.StartsWith("ENGINE-", byModel.GetProperty("assetId").GetString(), StringComparison.Ordinal);
            Assert.Equal("fd001-rul", byModel.GetProperty("provenance").GetProperty("modelName").GetString());
            var consoleText = host.Console;
            Assert.Contains("path=rules (no_model) turbofan-hpc-degradation", consoleText, StringComparison.Ordinal);
            Assert.Contains("path=model fd001-rul@1.0.0", consoleText, StringComparison.Ordinal);
            Assert.Contains("DEMO AUTO-APPROVAL: fd001-rul@1.0.0", consoleText, StringComparison.Ordinal);

            var decisions = await api.GetFromJsonAsync<JsonElement>("/api/edge/decisions/latest");
            Assert.Contains(decisions.EnumerateArray(), d => d.GetProperty("assetClass").GetString() == "turbofan" && d.GetProperty("modelName").GetString() == "fd001-rul");

            // The demo gateway in GET /api/gateways (what the README's curl shows): fresh, and its heartbeat names the
            // model it loaded with the execution provider it runs on.
            var gateways = await Eventually.Until(
                () => api.GetFromJsonAsync<JsonElement>("/api/gateways"),
                list => list.EnumerateArray().Any(g => !g.GetProperty("stale").GetBoolean()
                    && g.GetProperty("heartbeat").GetProperty("models").EnumerateArray().Any(m => m.GetProperty("modelName").GetString() == "fd001-rul")),
                TimeSpan.FromSeconds(90),
                "the demo gateway's heartbeat with the deployed model");
            var model = gateways.EnumerateArray().SelectMany(g => g.GetProperty("heartbeat").GetProperty("models").EnumerateArray())
                .First(m => m.GetProperty("modelName").GetString() == "fd001-rul");
            Assert.Equal("cpu", model.GetProperty("executionProvider").GetString());

            // The lifecycle goes on: once 1.0.0 decides, the demo's data scientist trains a challenger and the demo's
            // approver puts it in Shadow (not Production: the registry wants shadow evidence for that, and the demo waives
            // none for it). The registry shows it loaded by the gateway in Shadow beside 1.0.0, still in Production. (The
            // shadow comparisons themselves are not awaited here: on an overloaded machine the gateway may shed healthy
            // turbofans to the rules for a while, and the shadow only sees what the model scores; ShippedDashboardsAndAlertsTests
            // waits for them as the "Shadow agreement" panel's series.)
            var challenger = await Eventually.Until(
                () => TryGetVersion(api, "fd001-rul", "1.1.0"),
                v => v.ValueKind == JsonValueKind.Object && v.GetProperty("sites").EnumerateArray().Any(s => s.GetProperty("siteId").GetString() == "demo-plant"
                    && s.GetProperty("stage").GetString() == "Shadow" && s.GetProperty("status").GetString() == "Succeeded"),
                TimeSpan.FromSeconds(180),
                "the challenger fd001-rul@1.1.0 loaded in Shadow at the demo plant");
            // Shadow never decides, so nothing approved or signed it.
            Assert.True(!challenger.TryGetProperty("signature", out var signature) || signature.ValueKind == JsonValueKind.Null, "a shadow version is not signed");
            Assert.Contains("Demo: challenger fd001-rul@1.1.0", host.Console, StringComparison.Ordinal);
            Assert.DoesNotContain("DEMO AUTO-APPROVAL: fd001-rul@1.1.0", host.Console, StringComparison.Ordinal);
            var incumbent = await TryGetVersion(api, "fd001-rul", "1.0.0");
            Assert.Contains(incumbent.GetProperty("sites").EnumerateArray(), s => s.GetProperty("siteId").GetString() == "demo-plant" && s.GetProperty("stage").GetString() == "Production");
        }
        finally
        {
            var stopped = await host.InterruptAsync(TimeSpan.FromSeconds(30));
            output.WriteLine(host.Console);
            Assert.True(stopped, "the host did not stop within 30 s of Ctrl-C");
        }

        Assert.Equal(0, host.ExitCode);
    }

    private static bool DecidedByModel(JsonElement workOrder) =>
        workOrder.GetProperty("provenance").GetProperty("path") is var path
        && (path.ValueKind == JsonValueKind.Number ? path.GetInt32() == (int)PdM.Contracts.Decisions.DecisionPath.Model : path.GetString() == nameof(PdM.Contracts.Decisions.DecisionPath.Model));

    /// <summary>The registry's view of a version (what a user reads with <c>GET /api/models/{name}/versions/{version}</c>); undefined while it is not registered.</summary>
    private static async Task<JsonElement> TryGetVersion(HttpClient api, string name, string version)
    {
        try
        {
            using var response = await api.GetAsync($"/api/models/{name}/versions/{version}");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
        }
        catch (HttpRequestException)
        {
            return default;
        }
    }

    private static async Task<JsonElement> TryGetWorkOrders(HttpClient api)
    {
        try
        {
            if (api.DefaultRequestHeaders.Authorization is null)
            {
                // The demo runs the development issuer: a planner signs in as `pdm token` would.
                using var token = await api.PostAsJsonAsync("/api/auth/dev-token", new { user = "paula", roles = new[] { "planner" } });
                token.EnsureSuccessStatusCode();
                var accessToken = (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
                api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
            }

            return await api.GetFromJsonAsync<JsonElement>("/api/work-orders");
        }
        catch (HttpRequestException)
        {
            return JsonDocument.Parse("[]").RootElement;
        }
    }
}
