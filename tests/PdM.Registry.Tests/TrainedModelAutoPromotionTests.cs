using System.Collections.Concurrent;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PdM.Contracts.Registry;
using PdM.ModelPackage.Signing;
using PdM.Registry.Persistence;
using PdM.Testing;

namespace PdM.Registry.Tests;

/// <summary>The demo auto-approval: a registry of its own (Development environment, auto-promotion to plant-a).</summary>
public sealed class TrainedModelAutoPromotionTests
{
    [Fact]
    public async Task With_auto_promotion_a_trained_model_is_signed_and_deployed_by_the_demo_approver_with_a_warning()
    {
        var state = Path.Combine(Path.GetTempPath(), LocalDependencies.UniqueName("pdm_registry_auto"));
        await using var database = await TestDatabase.CreateAsync("regauto");
        var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName("regauto"));
        var logs = new LogCapture();
        var requested = new ConcurrentQueue<ModelDeploymentRequested>();
        var promoted = new ConcurrentQueue<ModelPromoted>();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = database.ConnectionString,
            ["Messaging:Transport"] = "RabbitMq",
            ["Messaging:RabbitMq:Uri"] = vhost.ToString(),
            ["Registry:StateDirectory"] = state,
            ["Registry:OutboxPollInterval"] = "00:00:00.200",
            ["Registry:PublicBaseUrl"] = "http://registry.demo.local:8080",
            ["Registry:AutoPromoteTrainedModels:Enabled"] = "true",
            ["Registry:AutoPromoteTrainedModels:SiteIds:0"] = "plant-a",
        };
        try
        {
            await using var host = await ModuleTestHost.StartAsync(RegistryModule.Descriptor, settings, logs, environment: "Development");
            var probe = host.Bus.ConnectReceiveEndpoint(LocalDependencies.UniqueName("registry-auto-probe"), e =>
            {
                e.Handler<ModelDeploymentRequested>(context =>
                {
                    requested.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
                e.Handler<ModelPromoted>(context =>
                {
                    promoted.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
            await probe.Ready;

            var name = TestPackages.UniqueName("auto");
            var command = TrainedModelRegistrationTests.Command(name, "rul_trees", requestedBy: null);
            await host.Bus.Publish(command);

            var deployment = await Eventually.Until(() => Task.FromResult(requested.FirstOrDefault(r => r.ModelName == name)),
                r => r is not null, TimeSpan.FromSeconds(60), "the deployment request of the auto-promoted model");
            Assert.Equal((ModelStage.Production, "demo-auto-approver"), (deployment!.Stage, deployment.RequestedBy));
            Assert.Equal(["plant-a"], deployment.SiteIds);
            Assert.NotNull(deployment.Signature);
            Assert.Equal("http://registry.demo.local:8080/api/artifacts/" + deployment.ArtifactSha256, deployment.ArtifactUrl);
            using (var verifier = new PackageSignatureVerifier(host.Services.GetRequiredService<Signing.RegistrySigningKey>().Signer.ExportPublicKeyPem()))
            {
                Assert.Null(verifier.Verify(command.ModelOnnx, command.ManifestJson, deployment.PackageDigest, deployment.Signature));
            }

            var promotion = await Eventually.Until(() => Task.FromResult(promoted.FirstOrDefault(p => p.ModelName == name)),
                p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted of the auto-promoted model");
            Assert.Equal(("demo-auto-approver", "training-run:" + command.TrainingRunId.ToString("D")), (promotion!.PromotedBy, promotion.UploadedBy));

            await using (var scope = host.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
                var version = await db.Versions.AsNoTracking().SingleAsync(v => v.TrainingRunId == command.TrainingRunId);
                Assert.Equal("demo-auto-approver", version.ApprovedBy);
                var site = await db.Deployments.AsNoTracking().SingleAsync(d => d.VersionId == version.Id);
                Assert.Equal(("plant-a", ModelStage.Production, DeploymentStatus.Requested), (site.SiteId, site.Stage, site.Status));
            }

            Assert.Contains(logs.Lines, l => l.Contains("DEMO AUTO-APPROVAL", StringComparison.Ordinal) && l.Contains(name, StringComparison.Ordinal));

            // A redelivered registration neither registers nor promotes again.
            await host.Bus.Publish(command with { CommandId = Guid.NewGuid() });
            await Eventually.Until(() => Task.FromResult(logs.Lines.Any(l => l.Contains($"Training run {command.TrainingRunId} is already registered", StringComparison.Ordinal))),
                seen => seen, TimeSpan.FromSeconds(30), "the redelivery to be handled");
            await using (var scope = host.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
                Assert.Equal(1, await db.Deployments.CountAsync(d => db.Versions.Any(v => v.Id == d.VersionId && v.ModelName == name)));
            }

            await probe.StopAsync();
        }
        finally
        {
            if (Directory.Exists(state))
            {
                Directory.Delete(state, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("Production")]
    [InlineData("Staging")]
    public async Task Auto_promotion_outside_development_and_demo_stops_the_start_with_a_clear_message(string environment)
    {
        using var signer = PackageSigner.Generate();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Database=unused",
            ["Registry:StateDirectory"] = Path.Combine(Path.GetTempPath(), "pdm-registry-auto-refused-" + Guid.NewGuid().ToString("N")),
            ["Registry:Signing:PrivateKeyPem"] = signer.ExportPrivateKeyPem(),
            ["Registry:AutoPromoteTrainedModels:Enabled"] = "true",
            ["Registry:AutoPromoteTrainedModels:SiteIds:0"] = "plant-a",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        RegistryModule.AddRegistry(builder);
        builder.Services.AddSingleton<IBus>(_ => throw new InvalidOperationException("no bus in this test"));
        await using var app = builder.Build();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Registry:AutoPromoteTrainedModels", failure.Message, StringComparison.Ordinal);
        Assert.Contains("only in the Development or Demo environment", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"'{environment}'", failure.Message, StringComparison.Ordinal);
    }
}
