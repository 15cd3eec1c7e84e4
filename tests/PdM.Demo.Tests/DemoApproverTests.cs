using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdM.Contracts.Registry;
using PdM.Host;
using PdM.ModelPackage;
using PdM.ModelPackage.Signing;
using PdM.Testing;

namespace PdM.Demo.Tests;

/// <summary>
/// The demo's approver on the demo's own composition (the Registry module, the in-memory bus the demo runs, the real
/// PostgreSQL): a version registered from a training run is promoted through the registry's promotion API by the
/// demo's own identity, signed with the key the demo set up for its gateway; the next version of the class goes to
/// Shadow beside it, without a waiver; the demo refuses a real environment.
/// </summary>
public sealed class DemoApproverTests
{
    [Fact]
    public async Task A_model_registered_from_a_training_run_is_promoted_by_the_demo_approver_through_the_registry_api()
    {
        var state = Path.Combine(Path.GetTempPath(), LocalDependencies.UniqueName("pdm_demo_approver"));
        await using var database = await TestDatabase.CreateAsync("demoappr");
        string[] args =
        [
            $"--ConnectionStrings:Postgres={database.ConnectionString}",
            "--PdM:Modules=Registry",
            "--Urls=http://127.0.0.1:0",
            "--Demo:Edge:EmbeddedBroker=false",
            "--Demo:Edge:Gateway=false",
            "--Demo:Edge:Simulator=false",
            "--Demo:Training:Enabled=false",
            "--CmmsStubs:Enabled=false",
            "--Demo:Approval:SiteIds:0=plant-a",
            $"--Demo:StateDirectory={Path.Combine(state, "demo")}",
            $"--Registry:StateDirectory={Path.Combine(state, "registry")}",
            $"--Auth:DevelopmentIssuer:KeyPath={Path.Combine(state, "dev-issuer.pem")}",
            "--Registry:OutboxPollInterval=00:00:00.200",
        ];
        var logs = new LogCapture();
        var requested = new ConcurrentQueue<ModelDeploymentRequested>();
        var promoted = new ConcurrentQueue<ModelPromoted>();
        try
        {
            Assert.Equal(0, await MigrateCommand.RunAsync(DemoComposition.WithDemoEnvironment(args)));
            await using var app = DemoComposition.Build(args, builder => builder.Logging.AddProvider(logs));
            await app.StartAsync();
            var bus = app.Services.GetRequiredService<IBus>();
            var probe = bus.ConnectReceiveEndpoint("demo-approver-probe", e =>
            {
                e.Handler<ModelDeploymentRequested>(context => Enqueue(requested, context.Message));
                e.Handler<ModelPromoted>(context => Enqueue(promoted, context.Message));
            });
            await probe.Ready;

            // Four eyes still holds: a run the approver itself asked for is refused by the registry, and nothing is deployed.
            var own = TrainedPackage("demo-own", requestedBy: "demo-auto-approver");
            await bus.Publish(own);
            var refusal = await Eventually.Until(
                () => Task.FromResult(logs.Lines.FirstOrDefault(l => l.Contains($"Demo auto-approval of {own.ModelName}@1.0.0 refused", StringComparison.Ordinal))),
                line => line is not null, TimeSpan.FromSeconds(60), "the registry's refusal of a self-approval");
            Assert.Contains("four_eyes", refusal, StringComparison.Ordinal);
            Assert.DoesNotContain(requested, r => r.ModelName == own.ModelName);

            var command = TrainedPackage("demo-approved", requestedBy: "dora");
            await bus.Publish(command);

            var deployment = await Eventually.Until(() => Task.FromResult(requested.FirstOrDefault(r => r.ModelName == command.ModelName)),
                r => r is not null, TimeSpan.FromSeconds(60), "the deployment request of the approved model");
            Assert.Equal((ModelStage.Production, "demo-auto-approver"), (deployment!.Stage, deployment.RequestedBy));
            Assert.Equal(["plant-a"], deployment.SiteIds);
            // Signed with the key the demo generated for its registry, and verifiable with the public key it gives its gateway.
            var publicKey = await File.ReadAllTextAsync(Path.Combine(state, "demo", "signing", "registry-signing.pub"));
            using (var verifier = new PackageSignatureVerifier(publicKey))
            {
                Assert.Null(verifier.Verify(command.ModelOnnx, command.ManifestJson, deployment.PackageDigest, deployment.Signature));
            }

            var promotion = await Eventually.Until(() => Task.FromResult(promoted.FirstOrDefault(p => p.ModelName == command.ModelName)),
                p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted of the approved model");
            Assert.Equal(("demo-auto-approver", "dora"), (promotion!.PromotedBy, promotion.UploadedBy));
            // A first Production model needs the site's shadow evidence: the demo waives it as an admin would, on the audited record.
            Assert.StartsWith("PdM.Demo: first model at the demo plant", promotion.ShadowGateOverride, StringComparison.Ordinal);
            // The approver logs once the registry answered; the registry's events may be out before that.
            await Eventually.Until(() => Task.FromResult(logs.Lines.Any(l => l.Contains($"DEMO AUTO-APPROVAL: {command.ModelName}@1.0.0", StringComparison.Ordinal))),
                seen => seen, TimeSpan.FromSeconds(30), "the approver's warning");

            // A challenger: the next version, once the plant has a Production model of its class, goes to Shadow with no
            // waiver (the registry wants its shadow evidence before it may decide), and nothing is signed for it.
            var challenger = TrainedPackage("demo-approved", requestedBy: "dora", name: command.ModelName, version: "1.1.0");
            await bus.Publish(challenger);
            var shadowDeployment = await Eventually.Until(
                () => Task.FromResult(requested.FirstOrDefault(r => r.ModelName == command.ModelName && r.ModelVersion == "1.1.0")),
                r => r is not null, TimeSpan.FromSeconds(60), "the deployment request of the challenger");
            Assert.Equal((ModelStage.Shadow, "demo-auto-approver", (string?)null), (shadowDeployment!.Stage, shadowDeployment.RequestedBy, shadowDeployment.Signature));
            Assert.Equal(["plant-a"], shadowDeployment.SiteIds);
            var shadowPromotion = await Eventually.Until(
                () => Task.FromResult(promoted.FirstOrDefault(p => p.ModelName == command.ModelName && p.ModelVersion == "1.1.0")),
                p => p is not null, TimeSpan.FromSeconds(30), "ModelPromoted of the challenger");
            Assert.Equal((ModelStage.Shadow, (string?)null), (shadowPromotion!.ToStage, shadowPromotion.ShadowGateOverride));
            Assert.Empty(shadowPromotion.ReplacedDigests);
            await Eventually.Until(
                () => Task.FromResult(logs.Lines.Any(l => l.Contains($"Demo: challenger {command.ModelName}@1.1.0", StringComparison.Ordinal)
                    && l.Contains($"beside {command.ModelName}@1.0.0", StringComparison.Ordinal))),
                seen => seen, TimeSpan.FromSeconds(30), "the approver's line about the challenger in shadow");
            Assert.DoesNotContain(logs.Lines, l => l.Contains($"DEMO AUTO-APPROVAL: {command.ModelName}@1.1.0", StringComparison.Ordinal));

            await probe.StopAsync();
            await app.StopAsync();
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
    public void The_demo_refuses_to_compose_outside_the_demo_and_development_environments(string environment)
    {
        var failure = Assert.Throws<InvalidOperationException>(() => DemoComposition.Build(
        [
            "--environment", environment,
            "--ConnectionStrings:Postgres=Host=127.0.0.1;Port=1;Database=unused",
            $"--Demo:StateDirectory={Path.Combine(Path.GetTempPath(), LocalDependencies.UniqueName("pdm_demo_refused"))}",
        ]));

        Assert.Contains("only in the Demo or Development environment", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"'{environment}'", failure.Message, StringComparison.Ordinal);
    }

    private static Task Enqueue<T>(ConcurrentQueue<T> queue, T message)
    {
        queue.Enqueue(message);
        return Task.CompletedTask;
    }

    /// <summary>A training run's registration command carrying the committed rul_trees package under a name of its own (or <paramref name="name"/>) and version.</summary>
    private static RegisterTrainedModel TrainedPackage(string prefix, string requestedBy, string? name = null, string version = "1.0.0")
    {
        name ??= $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        var directory = Path.Combine(LocalDependencies.RepositoryRoot, "tests", "models", "generated", "rul_trees");
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, ModelPackageFiles.ManifestFileName)))!.AsObject();
        manifest["name"] = name;
        manifest["version"] = version;
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var model = File.ReadAllBytes(Path.Combine(directory, ModelPackageFiles.ModelFileName));
        return new RegisterTrainedModel
        {
            CommandId = Guid.NewGuid(),
            TrainingRunId = Guid.NewGuid(),
            DatasetSnapshotId = Guid.NewGuid(),
            DatasetDigest = "sha256:" + new string('b', 64),
            RequestedBy = requestedBy,
            ModelName = name,
            ModelVersion = version,
            AssetClass = manifest["assetClass"]!.GetValue<string>(),
            PackageDigest = PackageDigest.Compute(model, manifestBytes),
            ModelOnnx = model,
            ManifestJson = manifestBytes,
            OccurredAt = DateTimeOffset.UtcNow,
        };
    }
}
