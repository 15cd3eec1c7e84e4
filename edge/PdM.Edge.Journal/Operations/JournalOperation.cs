namespace PdM.Edge.Journal.Operations;

/// <summary>
/// One queued request to the <see cref="JournalWriter"/>. Plan (under the index's gate: decide, mark), Execute (SQL
/// inside the batch's transaction), then Apply (under the gate, after commit) and Complete, or Undo and Fail when the
/// transaction did not commit. Plan may run twice: a failed batch is retried one operation at a time.
/// </summary>
internal abstract class JournalOperation
{
    public virtual void Plan(JournalIndex index)
    {
    }

    public abstract void Execute(JournalStore store);

    public virtual void Apply(JournalIndex index)
    {
    }

    public virtual void Undo(JournalIndex index)
    {
    }

    public abstract void Complete(JournalTelemetry telemetry);

    public abstract void Fail(Exception error);
}

/// <summary>An operation whose caller awaits a <typeparamref name="T"/>.</summary>
internal abstract class JournalOperation<T> : JournalOperation
{
    public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void Fail(Exception error) => Completion.TrySetException(error);
}
