namespace PdM.Edge.Journal;

/// <summary>
/// What an entry carries. The numeric value is the send priority: lower goes first, so a failure prediction
/// never waits behind a feature batch.
/// </summary>
public enum MessageClass
{
    FailurePrediction = 0,
    HealthAssessment = 1,
    FeatureBatch = 2,
    Heartbeat = 3,
}

internal static class MessageClasses
{
    public const int Count = 4;

    /// <summary>
    /// The order in which the quota evicts: feature batches first (bulky, only feed training), then heartbeats (their
    /// news is stale once a newer one exists), then health assessments. Failure predictions are never evicted.
    /// </summary>
    public static readonly MessageClass[] DropOrder = [MessageClass.FeatureBatch, MessageClass.Heartbeat, MessageClass.HealthAssessment];

    public static bool IsDefined(MessageClass messageClass) => (uint)messageClass < Count;

    /// <summary>How many classes of <see cref="DropOrder"/> an incoming entry of this class may evict to make room.</summary>
    public static int EvictableClassCount(MessageClass incoming) => incoming switch
    {
        MessageClass.FeatureBatch => 1,
        MessageClass.Heartbeat => 2,
        MessageClass.HealthAssessment => 3,
        _ => 3,
    };

    public static string Tag(MessageClass messageClass) => messageClass switch
    {
        MessageClass.FailurePrediction => "failure_prediction",
        MessageClass.HealthAssessment => "health_assessment",
        MessageClass.FeatureBatch => "feature_batch",
        MessageClass.Heartbeat => "heartbeat",
        _ => "unknown",
    };
}
