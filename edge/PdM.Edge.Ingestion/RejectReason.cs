namespace PdM.Edge.Ingestion;

/// <summary>Why a message or a reading was not accepted. <see cref="RejectReasons.ToCode"/> gives the stable snake_case name used in metrics and dead letters.</summary>
public enum RejectReason
{
    None = 0,
    UnknownAsset,
    UnknownSensor,
    OutOfRange,
    NotFinite,
    DeviceTimeSkew,
    AssetMismatch,
    PayloadTooLarge,
    TooDeep,
    Malformed,
    UnsupportedSchemaVersion,
    UnknownTopic,

    /// <summary>Sparkplug: the node's seq skipped a value; a rebirth was requested.</summary>
    SequenceGap,

    /// <summary>Sparkplug: a DATA metric's alias (or name) was not declared in the BIRTH; a rebirth was requested.</summary>
    UnknownAlias,

    /// <summary>Sparkplug: DATA (or DBIRTH) from a node/device without a current birth, or while a rebirth is owed.</summary>
    NotBorn,

    /// <summary>Sparkplug: an NDEATH whose bdSeq does not match the current NBIRTH (a late will of an old session), or a DDEATH for an unknown device.</summary>
    StaleDeath,

    /// <summary>
    /// A message that made a later stage of the gateway throw (features, decision, journal): dead-lettered with the
    /// stage and the exception, and acknowledged, so it cannot stop the pipeline nor come back at the next start.
    /// </summary>
    Poisoned,
}

public static class RejectReasons
{
    /// <summary>Number of enum values, for arrays indexed by reason.</summary>
    public const int Count = (int)RejectReason.Poisoned + 1;

    public static string ToCode(this RejectReason reason) => reason switch
    {
        RejectReason.None => "none",
        RejectReason.UnknownAsset => "unknown_asset",
        RejectReason.UnknownSensor => "unknown_sensor",
        RejectReason.OutOfRange => "out_of_range",
        RejectReason.NotFinite => "not_finite",
        RejectReason.DeviceTimeSkew => "device_time_skew",
        RejectReason.AssetMismatch => "asset_mismatch",
        RejectReason.PayloadTooLarge => "payload_too_large",
        RejectReason.TooDeep => "too_deep",
        RejectReason.Malformed => "malformed",
        RejectReason.UnsupportedSchemaVersion => "unsupported_schema_version",
        RejectReason.UnknownTopic => "unknown_topic",
        RejectReason.SequenceGap => "sequence_gap",
        RejectReason.UnknownAlias => "unknown_alias",
        RejectReason.NotBorn => "not_born",
        RejectReason.StaleDeath => "stale_death",
        RejectReason.Poisoned => "poisoned",
        _ => "unknown",
    };
}

/// <summary>
/// A rejected message (<see cref="WholeMessage"/>) or a rejected reading/part inside an accepted message.
/// <see cref="Detail"/> is a fixed phrase, not a formatted string, so a flood of rejections allocates nothing.
/// </summary>
public readonly record struct Rejection(
    RejectReason Reason,
    string Detail,
    string Topic,
    bool WholeMessage,
    string? AssetId = null,
    string? SensorId = null,
    long DeviceTimeUnixMs = 0,
    double Value = double.NaN)
{
    public string Code => Reason.ToCode();
}
