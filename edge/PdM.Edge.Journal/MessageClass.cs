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

/// <summary>The <c>class</c> tag of a class on the journal's metrics, for other components' metrics to match.</summary>
public static class MessageClassTag
{
    public static string Of(MessageClass messageClass) => MessageClasses.Tag(messageClass);
}

internal static class MessageClasses
{
    public const int Count = 4;

    /// <summary>
    /// The order in which the quota evicts: feature batches first (bulky, only feed training), then heartbeats (their
    /// news is stale once a newer one exists), then health assessments. Failure predictions are never evicted.
    /// </summary>
    public static readonly MessageClass[] DropOrder = [MessageClass.FeatureBatch, MessageClass.Heartbeat, MessageClass.HealthAssessment];

    /// <summary>The send order: live entries of every class by priority, then the backlog in the same order.</summary>
    public static readonly MessageClass[][] SendGroups = [[MessageClass.FailurePrediction, MessageClass.HealthAssessment, MessageClass.FeatureBatch, MessageClass.Heartbeat]];

    /// <summary>
    /// The send order under a bandwidth budget: feature batches are the first to wait. They only feed training and are
    /// the bulk of the bytes, so every other entry, live then backlog, goes before them (heartbeats too: small, and what
    /// tells the cloud the gateway is alive and throttled); only then live feature batches, then their backlog.
    /// </summary>
    public static readonly MessageClass[][] BudgetedSendGroups =
        [[MessageClass.FailurePrediction, MessageClass.HealthAssessment, MessageClass.Heartbeat], [MessageClass.FeatureBatch]];

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
