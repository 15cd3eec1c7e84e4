namespace PdM.Edge.Journal.Operations;

/// <summary>Deletes the entries past their class's TTL (leased ones wait for the next purge).</summary>
/// <param name="planned">Called when planning starts (the writer's timer may queue the next purge from then on).</param>
internal sealed class PurgeOperation(Action? planned = null) : JournalOperation<int>
{
    private readonly List<JournalSlot> _expired = [];

    public override void Plan(JournalIndex index)
    {
        _expired.Clear();
        planned?.Invoke();
        index.PlanExpired(_expired);
    }

    public override void Execute(JournalStore store)
    {
        foreach (var slot in _expired)
        {
            store.Delete(slot.Id);
        }
    }

    public override void Apply(JournalIndex index) => index.ApplyExpired(_expired);

    public override void Undo(JournalIndex index) => JournalIndex.Unmark(_expired);

    public override void Complete(JournalTelemetry telemetry)
    {
        foreach (var slot in _expired)
        {
            telemetry.Dropped(slot.Class, JournalTelemetry.ReasonExpired);
        }

        Completion.TrySetResult(_expired.Count);
    }
}
