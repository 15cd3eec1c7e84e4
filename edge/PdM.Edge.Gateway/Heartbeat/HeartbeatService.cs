using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using PdM.Contracts.Edge;
using PdM.Edge.Gateway.Uplink;
using PdM.Edge.Inference;
using PdM.Edge.Ingestion.Model;
using PdM.Edge.Journal;

namespace PdM.Edge.Gateway.Heartbeat;

/// <summary>
/// Every <c>Gateway:HeartbeatSeconds</c> takes the gateway's figures (machine, journal, uplink, models, assets, GPUs)
/// and the data-egress policy in force, and journals them as a <see cref="GatewayHeartbeat"/> (journal class <c>heartbeat</c>: evicted before health
/// assessments, expired after its TTL, because a newer one always follows). The latest one also feeds the gateway's
/// machine gauges, so /metrics and the cloud see the same figures.
/// </summary>
public sealed partial class HeartbeatService : BackgroundService
{
    private readonly GatewayOptions _gateway;
    private readonly JournalOptions _journalOptions;
    private readonly InferenceOptions _inference;
    private readonly EdgeJournal _journal;
    private readonly EventJournal _appends;
    private readonly ModelSlots _models;
    private readonly AssetModel _assets;
    private readonly NvidiaSmi _gpus;
    private readonly GatewayEgressPolicyStatus _egress;
    private readonly TimeProvider _clock;
    private readonly ILogger<HeartbeatService> _logger;
    private readonly MachineSampler _machine = new();
    private readonly GatewaySoftware _software;
    private GatewayHeartbeat? _latest;

    public HeartbeatService(
        IOptions<GatewayOptions> gateway,
        IOptions<JournalOptions> journalOptions,
        IOptions<InferenceOptions> inference,
        EdgeJournal journal,
        EventJournal appends,
        ModelSlots models,
        AssetModel assets,
        NvidiaSmi gpus,
        Egress.EgressPolicy egress,
        GatewayTelemetry telemetry,
        TimeProvider clock,
        ILogger<HeartbeatService> logger)
    {
        _gateway = gateway.Value;
        _journalOptions = journalOptions.Value;
        _inference = inference.Value;
        _journal = journal;
        _appends = appends;
        _models = models;
        _assets = assets;
        _gpus = gpus;
        _egress = egress.Status;
        _clock = clock;
        _logger = logger;
        _software = Software();
        telemetry.ObserveMachine(() => Latest);
    }

    /// <summary>The last heartbeat taken; null before the first.</summary>
    public GatewayHeartbeat? Latest => Volatile.Read(ref _latest);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_gateway.HeartbeatSeconds), _clock);
        try
        {
            do
            {
                var heartbeat = await TakeAsync(stoppingToken);
                Volatile.Write(ref _latest, heartbeat);
                await _appends.AppendAsync(heartbeat, heartbeat.EventId, heartbeat.OccurredAt, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    internal async Task<GatewayHeartbeat> TakeAsync(CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var statistics = _journal.GetStatistics();
        var oldest = _journal.OldestUnsentAppendedAt();
        var gpus = await _gpus.QueryAsync(cancellationToken);
        return new GatewayHeartbeat
        {
            EventId = Guid.CreateVersion7(now),
            GatewayId = _gateway.EffectiveGatewayId,
            SiteId = _gateway.SiteId,
            OccurredAt = now,
            IntervalSeconds = _gateway.HeartbeatSeconds,
            Software = _software,
            Host = _machine.Sample(),
            Disks = Disks(),
            Journal = new GatewayJournalFill
            {
                Bytes = statistics.Bytes,
                QuotaBytes = statistics.QuotaBytes,
                Entries = statistics.Count,
                OldestUnsentAgeSeconds = oldest is { } o ? Math.Round(Math.Max(0, (now - o).TotalSeconds), 3) : null,
            },
            UplinkUp = statistics.UplinkUp,
            Models = Models(),
            Inventory = Inventory(),
            Gpus = gpus is { Count: > 0 } ? gpus : null,
            Egress = _egress,
        };
    }

    private List<GatewayDiskSpace> Disks()
    {
        var disks = new List<GatewayDiskSpace>(2);
        AddDisk(disks, "journal", Path.GetDirectoryName(_journalOptions.ResolvePath()));
        if (!string.IsNullOrWhiteSpace(_inference.ModelStorePath))
        {
            AddDisk(disks, "model_store", Path.GetFullPath(_inference.ModelStorePath, AppContext.BaseDirectory));
        }

        return disks;
    }

    private void AddDisk(List<GatewayDiskSpace> disks, string purpose, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        try
        {
            // DriveInfo of a path resolves the mount that holds it (statvfs); the directory may not exist yet.
            var existing = path;
            while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
            {
                existing = parent;
            }

            var drive = new DriveInfo(existing);
            disks.Add(new GatewayDiskSpace { Purpose = purpose, Path = path, FreeBytes = drive.AvailableFreeSpace, TotalBytes = drive.TotalSize });
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException)
        {
            LogDiskUnreadable(_logger, purpose, path, exception.Message);
        }
    }

    private List<GatewayLoadedModel> Models()
    {
        var provider = _models.ActiveProvider;
        var loaded = new List<GatewayLoadedModel>();
        foreach (var slot in _models.All.OrderBy(s => s.AssetClass, StringComparer.Ordinal))
        {
            Add(slot.AssetClass, "production", slot.Current);
            Add(slot.AssetClass, "previous", slot.Previous);
            Add(slot.AssetClass, "canary", slot.Canary);
            Add(slot.AssetClass, "shadow", slot.Shadow);
        }

        return loaded;

        void Add(string assetClass, string role, ModelIdentity? model)
        {
            if (model is not null)
            {
                loaded.Add(new GatewayLoadedModel
                {
                    AssetClass = assetClass,
                    Role = role,
                    ModelName = model.Name,
                    ModelVersion = model.Version,
                    PackageDigest = model.Digest,
                    ExecutionProvider = provider,
                });
            }
        }
    }

    private List<GatewayAssetClassInventory> Inventory() =>
        [.. _assets.Assets
            .GroupBy(a => a.AssetClass, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new GatewayAssetClassInventory
            {
                AssetClass = g.Key,
                Assets = [.. g.OrderBy(a => a.Id, StringComparer.Ordinal).Select(a => new GatewayAssetSensors
                {
                    AssetId = a.Id,
                    Sensors = [.. a.Sensors.Select(s => s.Id)],
                })],
            })];

    private static GatewaySoftware Software() => new()
    {
        GatewayVersion = InformationalVersion(typeof(HeartbeatService).Assembly) ?? "unknown",
        Runtime = RuntimeInformation.FrameworkDescription,
        OperatingSystem = RuntimeInformation.OSDescription,
        OnnxRuntime = InformationalVersion(typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly),
    };

    /// <summary>The informational version, source-link commit suffix included (<c>1.0.0+abc…</c>): it names the build.</summary>
    private static string? InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString();

    [LoggerMessage(EventId = 1702, Level = LogLevel.Warning, Message = "Free space of the {Purpose} file system ({Path}) unreadable: {Reason}")]
    private static partial void LogDiskUnreadable(ILogger logger, string purpose, string path, string reason);
}
