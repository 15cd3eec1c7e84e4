namespace PdM.Edge.Journal.Operations;

/// <summary>Stores one entry, evicting older entries of lower classes when the quota demands it.</summary>
internal sealed class AppendOperation(JournalAppend append) : JournalOperation<AppendResult>
{
    private readonly List<JournalSlot> _victims = [];
    private bool _rejected;
    private bool _overQuota;
    private long _appendedTicks;
    private long _id;
    private Guid _messageId;

    public override void Plan(JournalIndex index)
    {
        // Plan may run twice: start clean.
        _victims.Clear();
        _appendedTicks = index.UtcNowTicks();
        _rejected = !index.PlanAppend(append.Class, append.Payload.Length, _victims, out _overQuota);
    }

    public override void Execute(JournalStore store)
    {
        if (_rejected)
        {
            return;
        }

        foreach (var victim in _victims)
        {
            store.Delete(victim.Id);
        }

        _id = store.Insert(append, _appendedTicks);
        _messageId = append.MessageId ?? MessageIds.Derive(store.InstanceId, _id);
    }

    public override void Apply(JournalIndex index)
    {
        if (_rejected)
        {
            index.ApplyRejected(append.Class);
            return;
        }

        index.ApplyAppend(new JournalSlot(_id, append.Class, append.Payload.Length, _appendedTicks), _victims, _overQuota);
    }

    public override void Undo(JournalIndex index) => JournalIndex.Unmark(_victims);

    public override void Complete(JournalTelemetry telemetry)
    {
        if (_rejected)
        {
            telemetry.Dropped(append.Class, JournalTelemetry.ReasonRejected);
            Completion.TrySetResult(new AppendResult(AppendStatus.Rejected, 0, Guid.Empty, "does not fit in the journal quota"));
            return;
        }

        foreach (var victim in _victims)
        {
            telemetry.Dropped(victim.Class, JournalTelemetry.ReasonQuota);
        }

        telemetry.Appended(append.Class);
        if (_overQuota)
        {
            telemetry.QuotaExceeded();
        }

        Completion.TrySetResult(_overQuota
            ? new AppendResult(AppendStatus.AppendedOverQuota, _id, _messageId, "quota exceeded: only failure predictions are left")
            : new AppendResult(AppendStatus.Appended, _id, _messageId, null));
    }
}
