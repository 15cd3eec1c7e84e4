using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PdM.Cmms.Stubs;
using PdM.Contracts.Decisions;
using PdM.Contracts.Maintenance;
using PdM.Maintenance.Api;
using PdM.Security;
using PdM.Testing;

namespace PdM.EndToEnd.Tests;

/// <summary>
/// Issue 14's outcome loop across the modules, on real RabbitMQ and PostgreSQL: a registered model version raises work
/// orders in a Maximo and an SAP that follow the vendors' contracts (the stubs); a planner completes them there (Maximo
/// COMP with failure class and problem code; SAP phase 4 with a damage code, once confirmed and once "no fault found");
/// the status sync reads each back as MaintenanceOutcomeRecorded, Telemetry stores it as a label in the feature store,
/// and the version's live precision in the registry moves with every outcome.
/// </summary>
public sealed class OutcomeLoopTests : IAsyncLifetime
{
    private const string Model = "loop-model";
    private const string Version = "1.0.0";
    private const string SapPassword = "loop-sap-password";
    private const string MaximoKey = "loop-maximo-key";
    private static readonly JsonSerializerOptions ApiJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _state = Path.Combine(Path.GetTempPath(), "pdm-tests", "loop-" + Guid.NewGuid().ToString("N"));
    private readonly string _maximoSite = LocalDependencies.UniqueName("loop-mx").Replace('_', '-');
    private readonly string _sapSite = LocalDependencies.UniqueName("loop-sap").Replace('_', '-');
    private CmmsStubServer? _cmms;
    private CloudUnderTest? _cloud;
    private HttpClient? _planner;

    public async Task InitializeAsync()
    {
        _cmms = await CmmsStubServer.StartAsync(configure: o =>
        {
            o.MaximoApiKey = MaximoKey;
            o.SapPassword = SapPassword;
        });
        _cloud = await CloudUnderTest.StartAsync("loop",
            [
                "--environment=Development",
                "--PdM:Modules=Registry,Maintenance,Telemetry",
                $"--Registry:StateDirectory={Path.Combine(_state, "registry")}",
                $"--Auth:DevelopmentIssuer:KeyPath={Path.Combine(_state, "auth", "dev-issuer.pem")}",
                "--Maintenance:Delivery:PollInterval=00:00:00.200",
                "--Maintenance:StatusSync:Interval=00:00:01",
                .. Site(_maximoSite, "Maximo", _cmms.MaximoUrl(_maximoSite)),
                .. Site(_sapSite, "Sap", _cmms.SapUrl(_sapSite)),
            ]);
        _planner = _cloud.Client(_cloud.DevelopmentToken("paula", PdMRoles.Planner));
    }

    public async Task DisposeAsync()
    {
        _planner?.Dispose();
        if (_cloud is not null)
        {
            await _cloud.DisposeAsync();
        }

        if (_cmms is not null)
        {
            await _cmms.DisposeAsync();
        }
    }

    [Fact]
    public async Task Completed_in_Maximo_and_SAP_the_work_orders_become_labels_and_move_the_models_live_precision()
    {
        var digest = await PushModel();
        var maximoOrder = await Raise(_maximoSite, "PUMP-1", digest);
        var sapConfirmed = await Raise(_sapSite, "PUMP-1", digest);
        var sapNoFault = await Raise(_sapSite, "PUMP-2", digest);
        var before = await Live();
        Assert.Equal(0, before.GetProperty("outcomes").GetInt32());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("livePrecision").ValueKind);

        // Maximo: the planner completes the work order with the failure class and the problem code they confirmed.
        _cmms!.Maximo.Tenant(_maximoSite).Close(maximoOrder.WorkOrder!.Cmms!.RecordId!, problemCode: "VIB", status: "COMP", failureCode: "PUMPS");
        var afterMaximo = await LiveWhen(1);
        Assert.Equal(1.0, afterMaximo.GetProperty("livePrecision").GetDouble());
        await AssertClosed(maximoOrder, MaintenanceOutcome.FailureConfirmed, "VIB");
        Assert.Equal(1f, await Label(_maximoSite, "PUMP-1"));

        // SAP: completed (phase 4) with the damage code the planner confirmed ...
        _cmms.Sap.Tenant(_sapSite).Complete(sapConfirmed.WorkOrder!.Cmms!.RecordId!, damageCode: "VIB");
        Assert.Equal(1.0, (await LiveWhen(2)).GetProperty("livePrecision").GetDouble());
        await AssertClosed(sapConfirmed, MaintenanceOutcome.FailureConfirmed, "VIB");
        Assert.Equal(1f, await Label(_sapSite, "PUMP-1"));

        // ... and once with "no fault found": a false alarm of this version, so its live precision drops to 2/3.
        _cmms.Sap.Tenant(_sapSite).Complete(sapNoFault.WorkOrder!.Cmms!.RecordId!, damageCode: "NFF");
        var afterNoFault = await LiveWhen(3);
        Assert.Equal(2, afterNoFault.GetProperty("failuresConfirmed").GetInt32());
        Assert.Equal(1, afterNoFault.GetProperty("noFaultFound").GetInt32());
        Assert.Equal(2.0 / 3, afterNoFault.GetProperty("livePrecision").GetDouble(), 6);
        await AssertClosed(sapNoFault, MaintenanceOutcome.NoFaultFound, "NFF");
        Assert.Equal(0f, await Label(_sapSite, "PUMP-2"));

        // The registry's overview lists the version with the same figures.
        var all = await _planner!.GetFromJsonAsync<JsonElement>("/api/live-precision");
        var row = all.EnumerateArray().Single(r => r.GetProperty("name").GetString() == Model);
        Assert.Equal("model", row.GetProperty("path").GetString());
        Assert.Equal(3, row.GetProperty("outcomes").GetInt32());
    }

    /// <summary>Pushes the AI4I logistic-regression package as <see cref="Model"/>@<see cref="Version"/>; its digest.</summary>
    private async Task<string> PushModel()
    {
        var from = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", "logreg_failure");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(from, "manifest.json")))!.AsObject();
        manifest["name"] = Model;
        manifest["version"] = Version;
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(from, "model.onnx"))), "model", "model.onnx" },
            { new StringContent(manifest.ToJsonString()), "manifest", "manifest.json" },
        };
        using var scientist = _cloud!.Client(_cloud.DevelopmentToken("alice", PdMRoles.DataScientist));
        using var response = await scientist.PostAsync($"/api/models/{Model}/versions", form);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("packageDigest").GetString()!;
    }

    /// <summary>A prediction of the model version on one asset, and its case once the work order is in the CMMS.</summary>
    private async Task<CaseResponse> Raise(string site, string asset, string digest)
    {
        await _cloud!.Services.GetRequiredService<IBus>().Publish(TestPredictions.Vibration(site, asset,
            new DecisionProvenance { Path = DecisionPath.Model, GatewayId = "gw-loop", ModelName = Model, ModelVersion = Version, ModelDigest = digest }));
        return (await Eventually.Until(
            async () => (await _planner!.GetFromJsonAsync<List<CaseResponse>>($"/api/cases?siteId={site}&assetId={asset}", ApiJson) ?? []).SingleOrDefault(),
            c => c?.WorkOrder?.Cmms?.RecordId is not null, TimeSpan.FromSeconds(60), $"the work order of {site}/{asset} in the CMMS"))!;
    }

    private async Task<JsonElement> Live() =>
        (await _planner!.GetFromJsonAsync<JsonElement>($"/api/models/{Model}/versions/{Version}")).GetProperty("live");

    private Task<JsonElement> LiveWhen(int outcomes) =>
        Eventually.Until(Live, l => l.GetProperty("outcomes").GetInt32() >= outcomes, TimeSpan.FromSeconds(60), $"{outcomes} outcome(s) in the registry");

    private async Task AssertClosed(CaseResponse raised, MaintenanceOutcome outcome, string code)
    {
        var closed = (await _planner!.GetFromJsonAsync<CaseResponse>($"/api/cases/{raised.Id}", ApiJson))!;
        Assert.Equal("Closed", closed.Status);
        Assert.Equal(outcome, closed.Outcome);
        Assert.Equal(code, closed.FailureCode);
    }

    /// <summary>The failure label Telemetry stored in the feature store for the asset from a maintenance outcome.</summary>
    private async Task<float> Label(string site, string asset)
    {
        await using var connection = new NpgsqlConnection(_cloud!.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT label FROM telemetry.labels WHERE source = 'maintenance' AND site_id = $1 AND asset_id = $2", connection)
        {
            Parameters = { new NpgsqlParameter { Value = site }, new NpgsqlParameter { Value = asset } },
        };
        return await Eventually.Until(async () => await query.ExecuteScalarAsync(), v => v is float, TimeSpan.FromSeconds(30), $"the label of {site}/{asset}") is float label
            ? label
            : float.NaN;
    }

    /// <summary>A site on one CMMS with two pumps and the VIB failure mode (INTEGRATIONS.md §5 example).</summary>
    private static IEnumerable<string> Site(string site, string adapter, Uri url)
    {
        var p = $"--Maintenance:Sites:{site}";
        yield return $"{p}:WorkOrderConfidence=0.7";
        yield return $"{p}:Cmms:Adapter={adapter}";
        if (adapter == "Maximo")
        {
            yield return $"{p}:Cmms:Maximo:BaseUrl={url}";
            yield return $"{p}:Cmms:Maximo:ApiKey={MaximoKey}";
            yield return $"{p}:Cmms:Maximo:CreateWorkOrders=true";
        }
        else
        {
            yield return $"{p}:Cmms:Sap:BaseUrl={url}";
            yield return $"{p}:Cmms:Sap:Client=100";
            yield return $"{p}:Cmms:Sap:User=PDM_RFC";
            yield return $"{p}:Cmms:Sap:Password={SapPassword}";
        }

        foreach (var asset in new[] { "PUMP-1", "PUMP-2" })
        {
            foreach (var argument in MaintenanceSiteArguments.MaximoPump(site, asset))
            {
                yield return argument;
            }

            // The same pump as SAP equipment, which the SAP site's adapter reads.
            var a = $"{p}:Assets:{asset}";
            yield return $"{a}:Sap:TechnicalObject=10000123";
            yield return $"{a}:Sap:Type=EAMS_EQUI";
            yield return $"{a}:Sap:Plant=1010";
            yield return $"{a}:Sap:WorkCenter=RES-0100";
            yield return $"{a}:Sap:PlannerGroup=100";
            yield return $"{a}:Sap:ObjectPartCodeGroup=PUMP";
            yield return $"{a}:Sap:ObjectPartCode=BRG";
        }

        var m = $"{p}:FailureModes:VIB";
        yield return $"{m}:Mechanism=2.4";
        yield return $"{m}:ProblemCode=VIB";
        yield return $"{m}:DamageCodeGroup=PM1";
        yield return $"{m}:DamageCode=VIB";
    }
}
