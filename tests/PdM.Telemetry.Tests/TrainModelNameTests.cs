using System.Net;
using System.Net.Http.Json;

namespace PdM.Telemetry.Tests;

[Collection(TelemetrySuite.Name)]
public sealed class TrainModelNameTests(TelemetryFixture fixture)
{
    [Theory]
    [InlineData("pump model")]
    [InlineData("-leading-dash")]
    [InlineData("rul/v2")]
    public async Task A_model_name_the_registry_would_refuse_is_refused_before_training(string name)
    {
        var response = await fixture.Api.PostAsJsonAsync("/api/training/runs", new
        {
            snapshotId = Guid.NewGuid(),
            task = "RulRegression",
            modelName = name,
            assetClass = "turbofan",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("the registry's model names", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
