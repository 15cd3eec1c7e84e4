using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Authentication;
using PdM.Contracts.Decisions;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway;
using PdM.Maintenance.Api;
using PdM.Security;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// Issue 6's acceptance, on real RabbitMQ, PostgreSQL and Mosquitto: a data scientist pushes with the CLI, the
/// gateway runs the version in shadow beside production, its statistics reach the registry, a second person approves,
/// the registry signs, the gateway verifies and switches, the model raises a work order, and lineage traces that work
/// order back to the pushed version, its uploader and its approver.
/// </summary>
public sealed class GovernedModelLifecycleTests : IAsyncLifetime
{
    private const string Model = "mill-failure";
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private static readonly string[] Assets = ["MILL-1", "MILL-2"];

    private readonly string _site = LocalDependencies.UniqueName("gov").Replace('_', '-');
    private readonly string _state = Path.Combine(Path.GetTempPath(), "pdm-tests", "gov-" + Guid.NewGuid().ToString("N"));
    private readonly LogCapture _cloudLogs = new();
    private readonly LogCapture _gatewayLogs = new();
    private readonly CancellationTokenSource _stopDevice = new();
    private CloudUnderTest? _cloud;
    private WebApplication? _gateway;
    private IMqttClient? _device;
    private Task? _deviceLoop;
    private volatile bool _failing;
    private string _server = null!;

    public async Task InitializeAsync()
    {
        _cloud = await CloudUnderTest.StartAsync("gov",
            [
                "--environment=Development",
                "--PdM:Modules=Registry,Lineage,Maintenance",
                $"--Registry:StateDirectory={Path.Combine(_state, "registry")}",
                $"--Auth:DevelopmentIssuer:KeyPath={Path.Combine(_state, "auth", "dev-issuer.pem")}",
                "--Registry:OutboxPollInterval=00:00:00.200",
                "--Registry:PromotionGates:MinComparedRows=20",
                "--Registry:PromotionGates:MinAgreementRatio=0.9",
            ],
            builder => builder.Logging.AddProvider(_cloudLogs));
        _server = _cloud.Address;

        // What a plant's operator configures on the gateway: the registry's public key and a gateway token for its site.
        using var http = _cloud.Client(bearerToken: null);
        var publicKey = await http.GetStringAsync("/api/signing/public-key");
        var gatewayToken = _cloud.Services.GetRequiredService<DevelopmentTokenIssuer>().Issue($"gw-{_site}", [PdMRoles.Gateway], _site, TimeSpan.FromHours(1));

        var spec = Path.Combine(_state, "mill-spec.json");
        Directory.CreateDirectory(_state);
        await File.WriteAllTextAsync(spec, """
            {"specVersion":1,"window":{"kind":"count","size":1,"hop":1,"watermarkMs":0},
             "features":[{"name":"air_temperature_k","sensor":"air_temperature_k","function":"last"},
                         {"name":"process_temperature_k","sensor":"process_temperature_k","function":"last"},
                         {"name":"rotational_speed_rpm","sensor":"rotational_speed_rpm","function":"last"},
                         {"name":"torque_nm","sensor":"torque_nm","function":"last"},
                         {"name":"tool_wear_min","sensor":"tool_wear_min","function":"last"}]}
            """);
        _gateway = GatewayApplication.Build(
            [
                .. TestGatewayArguments.OnLocalBrokers(_site, _cloud.RabbitMq),
                $"--Gateway:FeatureSpecPath={spec}",
                $"--Journal:Path={Path.Combine(_state, "journal.db")}",
                $"--Gateway:Deployment:TrustedPublicKeys:0={publicKey}",
                $"--Gateway:Deployment:RegistryAccessToken={gatewayToken}",
                $"--Inference:ModelStorePath={Path.Combine(_state, "models")}",
                "--Inference:ShadowReportIntervalSeconds=1",
                .. MillAssetModel(),
            ],
            builder => builder.Logging.AddProvider(_gatewayLogs));
        await _gateway.StartAsync();

        _device = await MqttDevice.ConnectAsync($"mill-{_site}");
        await Eventually.Until(() => Task.FromResult(_gatewayLogs.Lines.Any(l => l.Contains("Connected to MQTT broker", StringComparison.Ordinal))), c => c,
            TimeSpan.FromSeconds(30), "the gateway's MQTT connection");
        _deviceLoop = Task.Run(() => RunDevice(_stopDevice.Token));
    }

    public async Task DisposeAsync()
    {
        await _stopDevice.CancelAsync();
        if (_deviceLoop is not null)
        {
            await _deviceLoop;
        }

        if (_device is not null)
        {
            await _device.DisconnectAsync();
            _device.Dispose();
        }

        if (_gateway is not null)
        {
            await _gateway.StopAsync();
            await _gateway.DisposeAsync();
        }

        if (_cloud is not null)
        {
            await _cloud.DisposeAsync();
        }

        _stopDevice.Dispose();
    }

    [Fact]
    public async Task Push_shadow_statistics_second_person_approval_signed_production_work_order_and_its_lineage_back_to_uploader_and_approver()
    {
        var alice = new CliUser(_server);
        await alice.SignIn("alice", PdMRoles.DataScientist, PdMRoles.Approver);
        var bob = new CliUser(_server);
        await bob.SignIn("bob", PdMRoles.Approver);
        var paula = new CliUser(_server);
        await paula.SignIn("paula", PdMRoles.Planner);

        // Version 1 is the plant's first production model: the site has no Production model to shadow it against, so
        // an admin waives the shadow evidence with a reason (audited); an approver alone is refused.
        await alice.Ok("model", "push", Package("1.0.0"));
        var unshadowed = await bob.Run("model", "promote", Model, "1.0.0", "--stage", "Production", "--site", _site);
        Assert.Contains("shadow_evidence_missing", unshadowed.Error, StringComparison.Ordinal);
        var root = new CliUser(_server);
        await root.SignIn("root", PdMRoles.Admin);
        await root.Ok("model", "deploy", Model, "1.0.0", "--stage", "Production", "--site", _site, "--wait-seconds", "60",
            "--shadow-override-reason", "first model at the plant; the rules decide until now");

        // Version 2 is pushed with the CLI and runs in shadow beside version 1 on live telemetry.
        var pushed = await alice.Ok("model", "push", Package("2.0.0"), "--json");
        var digest = pushed.Json["packageDigest"]!.GetValue<string>();
        await alice.Ok("model", "deploy", Model, "2.0.0", "--stage", "Shadow", "--site", _site, "--wait-seconds", "60");

        // Until enough shadow evidence has arrived, the promotion gate refuses Production.
        var shadow = await Eventually.Until(
            async () => (await alice.Ok("model", "show", Model, "2.0.0", "--json")).Json["shadow"],
            s => s is not null && s["comparedRows"]!.GetValue<long>() >= 20,
            TimeSpan.FromSeconds(90), "20 shadow-compared rows from the gateway");
        Assert.Equal(1.0, shadow!["agreementRatio"]!.GetValue<double>());

        // Four eyes: the uploader, although an approver, cannot approve her own version.
        var own = await alice.Run("model", "promote", Model, "2.0.0", "--stage", "Production", "--site", _site);
        Assert.Equal(PdM.Cli.ExitCodes.NotAllowed, own.ExitCode);
        Assert.Contains("four_eyes", own.Error, StringComparison.Ordinal);

        await bob.Ok("model", "deploy", Model, "2.0.0", "--stage", "Production", "--site", _site, "--wait-seconds", "60");
        var approved = (await bob.Ok("model", "show", Model, "2.0.0", "--json")).Json;
        Assert.Equal("bob", approved["approvedBy"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(approved["signature"]!.GetValue<string>()));
        Assert.Contains(_gatewayLogs.Lines, l => l.Contains("2.0.0", StringComparison.Ordinal) && l.Contains("Production", StringComparison.Ordinal));

        // The tool wears out on MILL-2: version 2 (not the rules) raises the work order.
        _failing = true;
        using var api = _cloud!.Client(_cloud.DevelopmentToken("paula", PdMRoles.Planner));
        List<WorkOrderResponse> raised = [];
        try
        {
            raised = await Eventually.Until(
                async () => await api.GetFromJsonAsync<List<WorkOrderResponse>>("/api/work-orders?assetId=MILL-2", ApiJson) ?? [],
                list => list.Any(w => w.Provenance?.ModelVersion == "2.0.0"), TimeSpan.FromSeconds(90), "a work order raised by version 2");
        }
        catch (TimeoutException e)
        {
            var seen = await api.GetStringAsync("/api/work-orders?assetId=MILL-2");
            var rejections = await api.GetStringAsync("/api/rejections");
            throw new TimeoutException(
                $"{e.Message}\nwork orders: {seen}\nrejections: {rejections}\ngateway:\n{string.Join('\n', _gatewayLogs.Lines.TakeLast(15))}\ncloud:\n{string.Join('\n', _cloudLogs.Lines.TakeLast(15))}", e);
        }

        var workOrder = raised.First(w => w.Provenance?.ModelVersion == "2.0.0");
        Assert.Equal(DecisionPath.Model, workOrder.Provenance!.Path);
        Assert.Equal(Model, workOrder.Provenance.ModelName);
        Assert.Equal(digest, workOrder.Provenance.ModelDigest);

        // Lineage, asked by a planner with the CLI: the work order back to the pushed version and the two people.
        var trace = (await Eventually.Until(
            async () => await paula.Run("lineage", "work-order", workOrder.Id.ToString("D"), "--json"),
            r => r.ExitCode == 0 && r.Output.Contains("person:bob", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the work order's lineage")).Json;
        var edges = trace["edges"]!.AsArray().Select(e => (e!["from"]!.GetValue<string>(), e["to"]!.GetValue<string>(), e["kind"]!.GetValue<string>())).ToList();
        var model = $"model:{Model}@2.0.0";
        Assert.Contains(("person:alice", model, "uploaded"), edges);
        Assert.Contains(("person:bob", model, "approved"), edges);
        Assert.Contains(edges, e => e.Item1 == model && e.Item3 == "decided");
        var modelNode = trace["nodes"]!.AsArray().Single(n => n!["id"]!.GetValue<string>() == model)!;
        Assert.Equal(digest, modelNode["properties"]!["digest"]!.GetValue<string>());
    }

    private static string Package(string version)
    {
        var from = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", "logreg_failure");
        var to = Path.Combine(Path.GetTempPath(), "pdm-tests", "gov-packages", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(to);
        File.Copy(Path.Combine(from, "model.onnx"), Path.Combine(to, "model.onnx"));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(from, "manifest.json")))!.AsObject();
        manifest["name"] = Model;
        manifest["version"] = version;
        manifest["failureMode"] = "BRD";
        File.WriteAllText(Path.Combine(to, "manifest.json"), manifest.ToJsonString());
        return to;
    }

    /// <summary>Both mills report every 100 ms: healthy readings, and once <see cref="_failing"/> is set a worn tool on MILL-2.</summary>
    private async Task RunDevice(CancellationToken cancellationToken)
    {
        var time = DateTimeOffset.UtcNow.AddMinutes(-5);
        while (!cancellationToken.IsCancellationRequested)
        {
            time = time.AddMilliseconds(100);
            foreach (var asset in Assets)
            {
                var worn = _failing && asset == "MILL-2";
                var json = string.Create(CultureInfo.InvariantCulture,
                    $$$"""{"schemaVersion":1,"deviceTime":"{{{time:yyyy-MM-ddTHH:mm:ss.fffZ}}}","readings":{"air_temperature_k":{{{(worn ? 303.5 : 298.1)}}},"process_temperature_k":{{{(worn ? 312.0 : 308.6)}}},"rotational_speed_rpm":{{{(worn ? 1250 : 1551)}}},"torque_nm":{{{(worn ? 74.0 : 42.8)}}},"tool_wear_min":{{{(worn ? 248 : 5)}}}}}""");
                try
                {
                    await _device!.PublishAsync(new MqttApplicationMessageBuilder()
                        .WithTopic(TelemetryTopics.Telemetry(_site, asset))
                        .WithPayload(Encoding.UTF8.GetBytes(json))
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build(), cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }

            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static IEnumerable<string> MillAssetModel()
    {
        (string Id, string Unit, double Min, double Max)[] sensors =
        [
            ("air_temperature_k", "K", 250, 350), ("process_temperature_k", "K", 250, 350), ("rotational_speed_rpm", "rpm", 0, 5000),
            ("torque_nm", "N.m", 0, 200), ("tool_wear_min", "min", 0, 400),
        ];
        for (var a = 0; a < Assets.Length; a++)
        {
            yield return $"--AssetModel:Assets:{a}:Id={Assets[a]}";
            yield return $"--AssetModel:Assets:{a}:AssetClass=milling-machine";
            for (var s = 0; s < sensors.Length; s++)
            {
                var prefix = $"--AssetModel:Assets:{a}:Sensors:{s}";
                yield return $"{prefix}:Id={sensors[s].Id}";
                yield return $"{prefix}:Unit={sensors[s].Unit}";
                yield return string.Create(CultureInfo.InvariantCulture, $"{prefix}:ValidMin={sensors[s].Min}");
                yield return string.Create(CultureInfo.InvariantCulture, $"{prefix}:ValidMax={sensors[s].Max}");
            }
        }
    }
}
