using System.Net.Http.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PdM.Contracts.Registry;
using PdM.Contracts.Training;
using PdM.ModelPackage;
using PdM.Persistence;
using PdM.Telemetry.Persistence;
using PdM.Telemetry.Store;
using PdM.Telemetry.Training;
using PdM.Testing;
using PdM.Training;

namespace PdM.Telemetry.Tests;

/// <summary>
/// The training runner publishes through the module's outbox: each test runs a Telemetry host of its own (fresh
/// database and vhost); the broker link goes through a loopback proxy the test can cut.
/// </summary>
public sealed class TrainingOutboxTests
{
    private static readonly TimeSpan TrainingWait = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_run_that_completes_while_the_broker_is_unreachable_is_announced_exactly_once_after_the_link_returns()
    {
        await using var rig = await Rig.StartAsync("outbox", new Dictionary<string, string?>());
        var snapshot = await rig.CmapssSnapshotAsync("cut");

        // The broker becomes unreachable: open connections reset, new ones refused.
        rig.Proxy.Refuse();
        rig.Proxy.CutAll();
        var runId = Guid.NewGuid();
        await rig.ScheduleAsync(runId, snapshot.Id, requestedBy: "erin");

        var run = await Eventually.Until(() => rig.RunAsync(runId), r => r?.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed, TrainingWait, "the run to finish");
        Assert.Equal(TrainingRunStatus.Succeeded, run!.Status);

        // Committed with the run, waiting: at least one publish attempt failed and was scheduled for a retry.
        var waiting = await Eventually.Until(() => rig.OutboxAsync(), rows => rows.Any(r => r.Attempts > 0 && r.LastError is not null), TimeSpan.FromSeconds(60),
            "a failed publish attempt recorded in the outbox");
        Assert.Contains(waiting, r => r.MessageType == nameof(TrainingRunCompleted) && r.Status == OutboxStatus.Pending);
        Assert.Contains(waiting, r => r.MessageType == nameof(RegisterTrainedModel) && r.Status == OutboxStatus.Pending);
        Assert.Empty(rig.Probe.WithIds<TrainingRunCompleted>());

        rig.Proxy.Accept();

        await Eventually.Until(() => rig.OutboxAsync(), rows => rows.Count > 0 && rows.All(r => r.Status == OutboxStatus.Delivered), TimeSpan.FromSeconds(90), "the outbox drained");
        var completed = await Eventually.Until(() => Task.FromResult(rig.Probe.WithIds<TrainingRunCompleted>().Where(c => c.Message.RunId == runId).ToList()),
            c => c.Count > 0, TimeSpan.FromSeconds(30), "TrainingRunCompleted");
        var registration = await Eventually.Until(() => Task.FromResult(rig.Probe.Of<RegisterTrainedModel>().Where(r => r.TrainingRunId == runId).ToList()),
            r => r.Count > 0, TimeSpan.FromSeconds(30), "RegisterTrainedModel");
        var stages = await Eventually.Until(() => Task.FromResult(rig.Probe.Of<TrainingRunProgressed>().Where(p => p.RunId == runId).Select(p => p.Stage).ToList()),
            s => s.Count >= 4, TimeSpan.FromSeconds(30), "the progress events");

        var only = Assert.Single(completed);
        Assert.True(only.Message.Succeeded);
        Assert.Equal(run.PackageDigest, only.Message.PackageDigest);
        // Each stage exactly once (a burst after the outage may be consumed in any order by concurrent consumers).
        Assert.Equal(["completed", "loading", "packaging", "training"], stages.Order(StringComparer.Ordinal));

        // The registration carries the package exactly as written, its lineage and the requester.
        var command = Assert.Single(registration);
        Assert.Equal((snapshot.Id, snapshot.Digest, "erin"), (command.DatasetSnapshotId, command.DatasetDigest, command.RequestedBy));
        Assert.Equal(("outbox-rul", "1.0.0", "turbofan"), (command.ModelName, command.ModelVersion, command.AssetClass));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(run.PackagePath!, ModelPackageFiles.ModelFileName)), command.ModelOnnx);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(run.PackagePath!, ModelPackageFiles.ManifestFileName)), command.ManifestJson);
        Assert.Equal(run.PackageDigest, PackageDigest.Compute(command.ModelOnnx, command.ManifestJson));
        Assert.Equal(RegistrationStatuses.Pending, run.RegistrationStatus);
    }

    [Fact]
    public async Task The_registrys_answer_is_recorded_on_the_run()
    {
        await using var rig = await Rig.StartAsync("outbox_answer", new Dictionary<string, string?>());
        var snapshot = await rig.CmapssSnapshotAsync("answer");
        var registeredRun = Guid.NewGuid();
        var rejectedRun = Guid.NewGuid();
        using (var gina = rig.Client("gina", "data-scientist"))
        {
            // The requester is the token's user, whatever the body claims: the registry makes them the uploader.
            var accepted = await gina.PostAsJsonAsync("/api/training/runs", new
            {
                runId = registeredRun,
                snapshotId = snapshot.Id,
                task = "RulRegression",
                modelName = "outbox-rul",
                assetClass = "turbofan",
                requestedBy = "mallory",
                hyperparameters = new { numberOfTrees = 10, numberOfLeaves = 8, minimumExampleCountPerLeaf = 10, learningRate = 0.3 },
            });
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        }

        await rig.ScheduleAsync(rejectedRun, snapshot.Id, requestedBy: null);
        await Eventually.Until(() => rig.RunAsync(rejectedRun), r => r?.RegistrationStatus == RegistrationStatuses.Pending, TrainingWait, "both runs to succeed");
        var registration = await Eventually.Until(() => Task.FromResult(rig.Probe.Of<RegisterTrainedModel>().FirstOrDefault(r => r.TrainingRunId == registeredRun)),
            r => r is not null, TimeSpan.FromSeconds(30), "RegisterTrainedModel of the HTTP run");
        Assert.Equal("gina", registration!.RequestedBy);

        await rig.Bus.Publish(new ModelVersionRegistered
        {
            EventId = Guid.NewGuid(), ModelName = "outbox-rul", ModelVersion = "1.0.0", AssetClass = "turbofan", PackageDigest = new string('1', 64),
            ArtifactSha256 = new string('2', 64), ArtifactUrl = "http://registry/api/artifacts/2", UploadedBy = "training-run:" + registeredRun.ToString("D"),
            TrainingRunId = registeredRun, DatasetSnapshotId = snapshot.Id, DatasetDigest = snapshot.Digest, OccurredAt = DateTimeOffset.UtcNow,
        });
        await rig.Bus.Publish(new ModelVersionRejected
        {
            EventId = Guid.NewGuid(), ModelName = "outbox-rul", ModelVersion = "1.0.0", TrainingRunId = rejectedRun, RequestedBy = "training-run:" + rejectedRun.ToString("D"),
            Reason = "version_exists", Detail = "'outbox-rul' version 1.0.0 is already registered", OccurredAt = DateTimeOffset.UtcNow,
        });

        var registered = await Eventually.Until(() => rig.RunAsync(registeredRun), r => r?.RegistrationStatus == RegistrationStatuses.Registered, TimeSpan.FromSeconds(30), "the registration recorded");
        Assert.Equal("outbox-rul@1.0.0", registered!.RegistrationDetail);
        var rejected = await Eventually.Until(() => rig.RunAsync(rejectedRun), r => r?.RegistrationStatus == RegistrationStatuses.Rejected, TimeSpan.FromSeconds(30), "the rejection recorded");
        Assert.Equal("version_exists: 'outbox-rul' version 1.0.0 is already registered", rejected!.RegistrationDetail);
        Assert.Equal(TrainingRunStatus.Succeeded, rejected.Status);
    }

    [Fact]
    public async Task A_package_above_the_registration_limit_fails_the_run_with_the_sizes_and_sends_nothing_to_the_registry()
    {
        await using var rig = await Rig.StartAsync("outbox_big", new Dictionary<string, string?> { ["Training:MaxRegistrationBytes"] = "2048" });
        var snapshot = await rig.CmapssSnapshotAsync("big");
        var runId = Guid.NewGuid();

        await rig.ScheduleAsync(runId, snapshot.Id, requestedBy: null);

        var run = await Eventually.Until(() => rig.RunAsync(runId), r => r?.Status is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed, TrainingWait, "the run to finish");
        Assert.Equal(TrainingRunStatus.Failed, run!.Status);
        Assert.Contains("Training:MaxRegistrationBytes = 2048", run.Error, StringComparison.Ordinal);
        Assert.Contains("not sent to the registry", run.Error, StringComparison.Ordinal);

        var failed = await Eventually.Until(() => Task.FromResult(rig.Probe.WithIds<TrainingRunCompleted>().Where(c => c.Message.RunId == runId).ToList()),
            c => c.Count > 0, TimeSpan.FromSeconds(30), "TrainingRunCompleted");
        Assert.False(Assert.Single(failed).Message.Succeeded);
        Assert.Equal(run.Error, failed[0].Message.Error);
        Assert.DoesNotContain(await rig.OutboxAsync(), r => r.MessageType == nameof(RegisterTrainedModel));
    }

    /// <summary>A Telemetry host on its own database and vhost, its bus behind a <see cref="LoopbackTcpProxy"/>.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private readonly TestDatabase _database;
        private readonly ModuleTestHost _host;
        private readonly string _modelStore;

        private Rig(TestDatabase database, ModuleTestHost host, LoopbackTcpProxy proxy, BusMessages probe, string modelStore)
        {
            _database = database;
            _host = host;
            Proxy = proxy;
            Probe = probe;
            _modelStore = modelStore;
        }

        public LoopbackTcpProxy Proxy { get; }

        /// <summary>What the outbox tests receive over RabbitMQ: the run's events and its registration command.</summary>
        public BusMessages Probe { get; }

        public IBus Bus => _host.Bus;

        public HttpClient Client(string user, params string[] roles) => _host.CreateClient(user, roles);

        public static async Task<Rig> StartAsync(string tag, Dictionary<string, string?> extra)
        {
            var database = await TestDatabase.CreateAsync(tag);
            var vhost = LocalDependencies.CreateRabbitMqVirtualHost(LocalDependencies.UniqueName(tag));
            var proxy = new LoopbackTcpProxy(vhost.Host, vhost.Port);
            var modelStore = Path.Combine(Path.GetTempPath(), LocalDependencies.UniqueName("pdm_model_store_" + tag));
            var settings = new Dictionary<string, string?>(extra)
            {
                ["ConnectionStrings:Postgres"] = database.ConnectionString,
                ["Messaging:Transport"] = "RabbitMq",
                ["Messaging:RabbitMq:Uri"] = new UriBuilder(vhost) { Port = proxy.Port }.Uri.ToString(),
                ["FeatureStore:MaintenanceInterval"] = "1.00:00:00",
                ["Training:ModelStorePath"] = modelStore,
                ["TelemetryOutbox:PollInterval"] = "00:00:00.200",
                ["TelemetryOutbox:PublishTimeout"] = "00:00:02",
                ["TelemetryOutbox:BackoffBase"] = "00:00:00.200",
                ["TelemetryOutbox:MaxBackoff"] = "00:00:01",
            };
            var probe = new BusMessages();
            var host = await ModuleTestHost.StartAsync(TelemetryModule.Descriptor, settings, new LogCapture(),
                configure: builder => builder.Services.AddSingleton(probe),
                consumers: bus => bus.Collect<TrainingRunProgressed>().Collect<TrainingRunCompleted>().Collect<RegisterTrainedModel>());
            return new Rig(database, host, proxy, probe, modelStore);
        }

        public async Task<DatasetSnapshot> CmapssSnapshotAsync(string tag)
        {
            var spec = CmapssTraining.DefaultSpec(30, includeCycle: true, longWindow: 100);
            var import = await _host.Services.GetRequiredService<DatasetImporter>().ImportCmapssAsync(TelemetryFixture.CmapssSubset(units: 3, tag), spec);
            await using var scope = _host.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<SnapshotService>().CreateAsync(new SnapshotRequest
            {
                Name = "fd001-" + tag,
                Source = import.Source,
                SpecDigest = import.SpecDigest,
                LabelKind = LabelKinds.Rul,
            });
        }

        public async Task ScheduleAsync(Guid runId, Guid snapshotId, string? requestedBy)
        {
            await using var scope = _host.Services.CreateAsyncScope();
            var result = await scope.ServiceProvider.GetRequiredService<TrainingRunScheduler>().ScheduleAsync(new TrainModel
            {
                RunId = runId,
                SnapshotId = snapshotId,
                Task = TrainingTaskKind.RulRegression,
                Algorithm = TrainingAlgorithm.FastTree,
                ModelName = "outbox-rul",
                AssetClass = "turbofan",
                Hyperparameters = new TrainingHyperparameters { NumberOfTrees = 10, NumberOfLeaves = 8, MinimumExampleCountPerLeaf = 10, LearningRate = 0.3 },
                RequestedBy = requestedBy,
                OccurredAt = DateTimeOffset.UtcNow,
            }, CancellationToken.None);
            Assert.Null(result.Problem);
        }

        public async Task<TrainingRunRecord?> RunAsync(Guid runId)
        {
            await using var scope = _host.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<TelemetryDbContext>().TrainingRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId);
        }

        public async Task<List<OutboxMessage>> OutboxAsync()
        {
            await using var scope = _host.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<TelemetryDbContext>().Outbox.AsNoTracking().OrderBy(m => m.Id).ToListAsync();
        }

        public async ValueTask DisposeAsync()
        {
            Proxy.Accept();
            await _host.DisposeAsync();
            await Proxy.DisposeAsync();
            await _database.DisposeAsync();
            if (Directory.Exists(_modelStore))
            {
                Directory.Delete(_modelStore, recursive: true);
            }
        }
    }
}
