namespace PdM.Edge.Journal.Operations;

/// <summary>Leases the next entries to deliver (within a byte budget when given) and counts an attempt on each, durably.</summary>
internal sealed class LeaseOperation(int max, LeaseBudget? budget = null) : JournalOperation<BudgetedLease>
{
    private readonly List<(JournalSlot Slot, bool IsReplay)> _selected = [];
    private readonly List<JournalEntry> _entries = [];
    private (MessageClass Class, long Cost)? _waiting;

    public override void Plan(JournalIndex index)
    {
        _selected.Clear();
        _waiting = index.PlanLeases(max, budget, _selected);
    }

    public override void Execute(JournalStore store)
    {
        _entries.Clear();
        foreach (var (slot, isReplay) in _selected)
        {
            if (store.Lease(slot.Id, isReplay) is { } entry)
            {
                _entries.Add(entry);
            }
        }
    }

    public override void Undo(JournalIndex index) => JournalIndex.UndoLeases(_selected);

    public override void Complete(JournalTelemetry telemetry)
    {
        foreach (var entry in _entries)
        {
            if (entry.IsReplay)
            {
                telemetry.Replayed(entry.Class);
            }
        }

        Completion.TrySetResult(new BudgetedLease(_entries, _waiting?.Class, _waiting?.Cost ?? 0));
    }
}
