using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Protocol;
using PdM.Authentication;
using PdM.Contracts;
using PdM.Contracts.Telemetry;
using PdM.Edge.Gateway.Pipeline;
using PdM.Edge.Simulator;
using PdM.Security;
using PdM.Testing;

namespace PdM.Edge.Gateway.Tests;

/// <summary>
/// <c>GET /api/edge/decisions/latest</c> on a gateway with authentication (as in PdM.Host): a planner sees each asset's
/// last decision with its path and why the rules decided; no token is 401, a role without ModelsRead is 403.
/// </summary>
public sealed class DecisionEndpointsTests
{
    [Fact]
    public async Task The_latest_decision_per_asset_is_served_to_model_readers_only()
    {
        var site = LocalDependencies.UniqueName("de").Replace('_', '-');
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("de"));
        using var tokens = new TestTokenIssuer();
        await using var app = GatewayApplication.Build(
            [
                "--Urls=http://127.0.0.1:0",
                $"--Messaging:RabbitMq:Uri={vhost}",
                $"--Gateway:SiteId={site}",
                $"--Gateway:Mqtt:Host={LocalDependencies.MqttHost}",
                $"--Gateway:Mqtt:Port={LocalDependencies.MqttPort}",
                $"--Gateway:Mqtt:ClientId=gw-{site}",
                $"--Journal:Path={Path.Combine(Path.GetTempPath(), "pdm-tests", site, "journal.db")}",
                $"--Gateway:FeatureSpecs:turbofan={TurbofanFeaturesTests.SpecPath}",
                "--Auth:DevelopmentIssuer:Enabled=false",
                .. TurbofanFeaturesTests.AssetModelSettings(0, TurbofanFeaturesTests.Turbofan("ENGINE-031")),
                .. tokens.Arguments,
            ],
            builder => builder.AddPdMAuthentication());
        app.MapEdgeDecisionEndpoints();
        await app.StartAsync();
        try
        {
            var address = ListeningAddress.Of(app);
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            var board = app.Services.GetRequiredService<DecisionBoard>();

            using var device = await GatewayUnderTest.ConnectClient($"dev-{site}", LocalDependencies.MqttPort);
            var replay = CmapssReplay.Load(new CmapssReplayOptions { Enabled = true, Units = [31], Loop = false });
            var messages = new List<(string AssetId, TelemetryMessage Message)>();
            var now = DateTimeOffset.UtcNow;
            for (var cycle = 0; cycle < 35; cycle++)
            {
                messages.Clear();
                replay.NextCycle(now, messages);
                var (asset, message) = Assert.Single(messages);
                await device.PublishAsync(new MqttApplicationMessageBuilder()
                    .WithTopic(TelemetryTopics.Telemetry(site, asset))
                    .WithPayload(JsonSerializer.SerializeToUtf8Bytes(message, ContractsJsonContext.Default.TelemetryMessage))
                    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                    .Build());
            }

            await Eventually.Until(() => Task.FromResult(board.Latest().Count), n => n > 0, TimeSpan.FromSeconds(30), "a decision for the engine");

            using (var anonymous = await http.GetAsync(new Uri(DecisionEndpoints.Route, UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            }

            using (var gateway = new HttpRequestMessage(HttpMethod.Get, DecisionEndpoints.Route))
            {
                gateway.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Issue("gw", [PdMRoles.Gateway]));
                using var forbidden = await http.SendAsync(gateway);
                Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, DecisionEndpoints.Route);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.Issue("pat", [PdMRoles.Planner]));
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var engine = Assert.Single(json.RootElement.EnumerateArray());
            Assert.Equal("ENGINE-031", engine.GetProperty("assetId").GetString());
            Assert.Equal("turbofan", engine.GetProperty("assetClass").GetString());
            Assert.Equal("rules", engine.GetProperty("path").GetString());
            Assert.Equal("no_model", engine.GetProperty("fallbackReason").GetString());
            Assert.Equal("turbofan-hpc-degradation", engine.GetProperty("rulesetName").GetString());
            Assert.Equal("turbofan-fd001", engine.GetProperty("featureSpec").GetString());
            Assert.StartsWith("sha256:", engine.GetProperty("featureSpecDigest").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
