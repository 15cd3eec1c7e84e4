using System.Collections.Concurrent;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PdM.Contracts.Registry;
using PdM.Registry.Persistence;
using PdM.Testing;

namespace PdM.Registry.Tests;

/// <summary>Packages trained by the platform arrive as <see cref="RegisterTrainedModel"/> and go through the upload's validation.</summary>
[Collection(RegistrySuite.Name)]
public sealed class TrainedModelRegistrationTests(RegistryFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_trained_package_becomes_a_candidate_uploaded_by_its_requester_with_run_and_snapshot_and_a_redelivery_adds_nothing()
    {
        var name = TestPackages.UniqueName("trained");
        var command = Command(name, "rul_trees", requestedBy: "carol");

        await fixture.Bus.Publish(command);

        var registered = await Eventually.Until(
            () => Task.FromResult(fixture.Events.Of<ModelVersionRegistered>().Where(e => e.TrainingRunId == command.TrainingRunId).ToList()),
            e => e.Count > 0, Wait, "ModelVersionRegistered for the training run");
        var announced = Assert.Single(registered);
        Assert.Equal((name, "1.0.0", "carol"), (announced.ModelName, announced.ModelVersion, announced.UploadedBy));
        Assert.Equal(command.DatasetSnapshotId, announced.DatasetSnapshotId);
        Assert.Equal(command.DatasetDigest, announced.DatasetDigest);
        Assert.Equal(command.TrainingRunId.ToString("D"), announced.TrainingRun);

        var version = await fixture.Version(name, "1.0.0");
        Assert.Equal(ModelStage.Candidate, version.HighestStage);
        Assert.Equal("carol", version.UploadedBy);
        Assert.Equal(announced.PackageDigest, version.PackageDigest);
        var row = await VersionRow(command.TrainingRunId);
        Assert.Equal((command.DatasetSnapshotId, command.DatasetDigest), (row!.DatasetSnapshotId, row.DatasetDigest));

        // The same command again (a redelivery, or Telemetry's outbox re-publishing after a crash): nothing new.
        await fixture.Bus.Publish(command with { CommandId = Guid.NewGuid() });
        await Eventually.Until(() => Task.FromResult(fixture.Logs.Lines.Any(l => l.Contains($"Training run {command.TrainingRunId} is already registered", StringComparison.Ordinal))),
            seen => seen, Wait, "the redelivery to be handled");
        Assert.Equal(1, await Query(db => db.Versions.CountAsync(v => v.TrainingRunId == command.TrainingRunId)));
        Assert.Equal(1, await Query(db => db.Versions.CountAsync(v => v.ModelName == name)));
        Assert.Single(fixture.Events.Of<ModelVersionRegistered>(), e => e.TrainingRunId == command.TrainingRunId);
    }

    [Fact]
    public async Task Without_a_requester_the_training_run_is_the_uploader()
    {
        var name = TestPackages.UniqueName("trained-anon");
        var command = Command(name, "logreg_failure", requestedBy: null);

        await fixture.Bus.Publish(command);

        var row = await Eventually.Until(() => VersionRow(command.TrainingRunId), r => r is not null, Wait, "the version registered");
        Assert.Equal("training-run:" + command.TrainingRunId.ToString("D"), row!.UploadedBy);
    }

    [Fact]
    public async Task A_package_the_loader_refuses_is_recorded_and_announced_with_the_loaders_reason_and_no_version_is_created()
    {
        var rejected = new ConcurrentQueue<ModelVersionRejected>();
        var handle = fixture.Bus.ConnectReceiveEndpoint(LocalDependencies.UniqueName("registry-rejections-probe"), e =>
            e.Handler<ModelVersionRejected>(context =>
            {
                rejected.Enqueue(context.Message);
                return Task.CompletedTask;
            }));
        await handle.Ready;
        try
        {
            var name = TestPackages.UniqueName("trained-bad");
            var command = Command(name, "broken_golden_mismatch", requestedBy: "dave");

            await fixture.Bus.Publish(command);

            var announced = await Eventually.Until(() => Task.FromResult(rejected.FirstOrDefault(r => r.TrainingRunId == command.TrainingRunId)),
                r => r is not null, Wait, "ModelVersionRejected for the training run");
            Assert.Equal(("golden_vector_mismatch", name, "dave"), (announced!.Reason, announced.ModelName, announced.RequestedBy));
            Assert.False(string.IsNullOrWhiteSpace(announced.Detail));
            var recorded = await Query(db => db.TrainedModelRejections.AsNoTracking().SingleAsync(r => r.TrainingRunId == command.TrainingRunId));
            Assert.Equal(("golden_vector_mismatch", announced.Detail, command.DatasetSnapshotId), (recorded.Reason, recorded.Detail, recorded.DatasetSnapshotId));
            Assert.Equal(0, await Query(db => db.Versions.CountAsync(v => v.ModelName == name)));

            await fixture.Bus.Publish(command with { CommandId = Guid.NewGuid() });
            await Eventually.Until(() => Task.FromResult(fixture.Logs.Lines.Any(l => l.Contains($"Training run {command.TrainingRunId}'s package was already rejected", StringComparison.Ordinal))),
                seen => seen, Wait, "the redelivery to be handled");
            Assert.Equal(1, await Query(db => db.TrainedModelRejections.CountAsync(r => r.TrainingRunId == command.TrainingRunId)));
        }
        finally
        {
            await handle.StopAsync();
        }
    }

    internal static RegisterTrainedModel Command(string name, string package, string? requestedBy)
    {
        var (model, manifest) = TestPackages.Load(package, name);
        return new RegisterTrainedModel
        {
            CommandId = Guid.NewGuid(),
            TrainingRunId = Guid.NewGuid(),
            DatasetSnapshotId = Guid.NewGuid(),
            DatasetDigest = "sha256:" + new string('a', 64),
            RequestedBy = requestedBy,
            ModelName = name,
            ModelVersion = "1.0.0",
            AssetClass = "centrifugal-pump",
            PackageDigest = PdM.ModelPackage.PackageDigest.Compute(model, manifest),
            ModelOnnx = model,
            ManifestJson = manifest,
            OccurredAt = DateTimeOffset.UtcNow,
        };
    }

    private Task<ModelVersionRecord?> VersionRow(Guid runId) =>
        Query(db => db.Versions.AsNoTracking().SingleOrDefaultAsync(v => v.TrainingRunId == runId));

    private async Task<T> Query<T>(Func<RegistryDbContext, Task<T>> query)
    {
        await using var scope = fixture.Host.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<RegistryDbContext>());
    }
}
