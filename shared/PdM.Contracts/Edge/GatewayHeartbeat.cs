namespace PdM.Contracts.Edge;

/// <summary>
/// A gateway's periodic report on itself (every <c>Gateway:HeartbeatSeconds</c>): the machine it runs on, its journal
/// and uplink, the models it runs, the assets it serves and the data-egress policy it enforces. The cloud keeps the
/// latest per gateway. A figure the gateway cannot measure on its platform is absent (null), never zero.
/// </summary>
public sealed record GatewayHeartbeat
{
    public required Guid EventId { get; init; }

    public required string GatewayId { get; init; }

    public required string SiteId { get; init; }

    /// <summary>When the gateway took the figures (its own clock).</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The configured interval: the cloud calls a gateway stale after a few of them without news.</summary>
    public required int IntervalSeconds { get; init; }

    public required GatewaySoftware Software { get; init; }

    public required GatewayHostResources Host { get; init; }

    /// <summary>Free space of the file systems that hold the journal and the model store.</summary>
    public required IReadOnlyList<GatewayDiskSpace> Disks { get; init; }

    public required GatewayJournalFill Journal { get; init; }

    /// <summary>False once a publish to the cloud failed, until one is confirmed again.</summary>
    public required bool UplinkUp { get; init; }

    /// <summary>Every model the gateway runs, per asset class and role, with the execution provider it runs on.</summary>
    public required IReadOnlyList<GatewayLoadedModel> Models { get; init; }

    /// <summary>The site's assets per asset class with the sensors each reports (the gateway's asset model).</summary>
    public required IReadOnlyList<GatewayAssetClassInventory> Inventory { get; init; }

    /// <summary>NVIDIA GPUs (nvidia-smi); null when the machine has none or the tool is missing.</summary>
    public IReadOnlyList<GatewayGpuStatus>? Gpus { get; init; }

    /// <summary>The data-egress policy this gateway enforced on everything it sent, this heartbeat included.</summary>
    public GatewayEgressPolicyStatus? Egress { get; init; }
}

public sealed record GatewaySoftware
{
    /// <summary>The gateway build (assembly informational version).</summary>
    public required string GatewayVersion { get; init; }

    /// <summary>.NET runtime, e.g. <c>.NET 10.0.0</c>.</summary>
    public required string Runtime { get; init; }

    public required string OperatingSystem { get; init; }

    /// <summary>The ONNX Runtime build the gateway scores with; null when it could not be read.</summary>
    public string? OnnxRuntime { get; init; }
}

public sealed record GatewayHostResources
{
    public required int ProcessorCount { get; init; }

    /// <summary>The gateway process's CPU over the last interval, 0-100 % of the whole machine.</summary>
    public required double ProcessCpuPercent { get; init; }

    /// <summary>The whole machine's CPU over the last interval (Linux /proc/stat); null elsewhere.</summary>
    public double? HostCpuPercent { get; init; }

    public required long ProcessWorkingSetBytes { get; init; }

    /// <summary>Linux /proc/meminfo MemTotal; null elsewhere.</summary>
    public long? HostMemoryTotalBytes { get; init; }

    /// <summary>Linux /proc/meminfo MemAvailable; null elsewhere.</summary>
    public long? HostMemoryAvailableBytes { get; init; }
}

public sealed record GatewayDiskSpace
{
    /// <summary><c>journal</c> or <c>model_store</c>.</summary>
    public required string Purpose { get; init; }

    public required string Path { get; init; }

    public required long FreeBytes { get; init; }

    public required long TotalBytes { get; init; }
}

public sealed record GatewayJournalFill
{
    public required long Bytes { get; init; }

    public required long QuotaBytes { get; init; }

    public required int Entries { get; init; }

    /// <summary>Age of the oldest entry not yet confirmed by the broker; null when nothing waits.</summary>
    public double? OldestUnsentAgeSeconds { get; init; }
}

public sealed record GatewayLoadedModel
{
    public required string AssetClass { get; init; }

    /// <summary><c>production</c>, <c>previous</c>, <c>canary</c> or <c>shadow</c>.</summary>
    public required string Role { get; init; }

    public required string ModelName { get; init; }

    public required string ModelVersion { get; init; }

    public required string PackageDigest { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>tensorrt</c>.</summary>
    public required string ExecutionProvider { get; init; }
}

public sealed record GatewayAssetClassInventory
{
    public required string AssetClass { get; init; }

    public required IReadOnlyList<GatewayAssetSensors> Assets { get; init; }
}

public sealed record GatewayAssetSensors
{
    public required string AssetId { get; init; }

    public required IReadOnlyList<string> Sensors { get; init; }
}

/// <summary>One NVIDIA GPU; each figure is null when nvidia-smi reports it unsupported (<c>[N/A]</c>).</summary>
public sealed record GatewayGpuStatus
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    public double? UtilizationPercent { get; init; }

    public long? MemoryUsedBytes { get; init; }

    public long? MemoryTotalBytes { get; init; }

    public double? TemperatureC { get; init; }

    public double? PowerDrawWatts { get; init; }

    /// <summary>The enforced power cap.</summary>
    public double? PowerLimitWatts { get; init; }
}

public sealed record GatewayEgressPolicyStatus
{
    /// <summary>The site's policy version (<c>Gateway:Egress:Version</c>).</summary>
    public required string Version { get; init; }

    /// <summary>The message classes allowed to leave the site.</summary>
    public required IReadOnlyList<string> AllowedClasses { get; init; }

    public required IReadOnlyList<string> HashedFields { get; init; }

    public required IReadOnlyList<string> DroppedFields { get; init; }

    /// <summary>Whether the site allows training in the cloud on its feature windows.</summary>
    public required bool CloudTrainingAllowed { get; init; }
}
