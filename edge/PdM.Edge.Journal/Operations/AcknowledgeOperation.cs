namespace PdM.Edge.Journal.Operations;

/// <summary>Deletes entries whose publish was confirmed; the result is how many were still held.</summary>
internal sealed class AcknowledgeOperation(long[] ids) : JournalOperation<int>
{
    private readonly List<MessageClass> _removed = [];

    public override void Plan(JournalIndex index) => index.PlanAcknowledge(ids);

    public override void Execute(JournalStore store)
    {
        foreach (var id in ids)
        {
            store.Delete(id);
        }
    }

    public override void Apply(JournalIndex index) => index.ApplyAcknowledge(ids, _removed);

    public override void Complete(JournalTelemetry telemetry)
    {
        foreach (var messageClass in _removed)
        {
            telemetry.Acknowledged(messageClass);
        }

        Completion.TrySetResult(_removed.Count);
    }
}
